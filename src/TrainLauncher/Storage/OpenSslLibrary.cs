using System.Runtime.InteropServices;

namespace TrainLauncher.Storage;

/// <summary>
/// Whether this image has an OpenSSL that .NET can load. .NET dlopens libssl at the first TLS
/// handshake, HMAC (every signed S3 request) or MD5 (every upload), and when none loads it prints
/// "No usable version of libssl was found" and aborts the process: status 134 instead of a
/// failed fetch, and after the command a changed status. So the built-in client asks first,
/// trying the same names in the same order as .NET 10's shim (opensslshim.c), the
/// DOTNET_OPENSSL_VERSION_OVERRIDE one first. Bases without libssl: distroless, some minimal images.
/// </summary>
internal static class OpenSslLibrary
{
    private static readonly string[] KnownSonames = ["libssl.so.3", "libssl.so.1.1", "libssl.so.1.0.2", "libssl.so.1.0.0", "libssl.so.10"];
    private static readonly Lazy<string?> Loaded = new(Probe);

    /// <summary>The libssl that loads (left loaded: .NET's own dlopen then finds it), or null.</summary>
    public static string? Soname => Loaded.Value;

    /// <summary>Names what is missing, for a one-line failure.</summary>
    public static string Missing => $"no libssl loads in this image (tried {string.Join(", ", Candidates())})";

    private static IEnumerable<string> Candidates()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_OPENSSL_VERSION_OVERRIDE") is { Length: > 0 and <= 32 } version)
            yield return "libssl.so." + version;
        foreach (var soname in KnownSonames) yield return soname;
    }

    private static string? Probe() => Candidates().FirstOrDefault(soname => NativeLibrary.TryLoad(soname, out _));
}
