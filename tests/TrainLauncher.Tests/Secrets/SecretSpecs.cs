using TrainLauncher.Tests.Support;

namespace TrainLauncher.Tests.Secrets;

/// <summary>SPEC 5 with the stand-in tools: both decryption paths, every bad answer, and no
/// plaintext anywhere the launcher writes.</summary>
public class SecretSpecs
{
    private const string Plain = "pl41n-S3cret-value";

    private static LauncherRun WithKeyFile(TempDir dir)
    {
        var key = dir.Write("key", "standin-key\n");
        return new LauncherRun(dir).Set("DLS_DECRYPTOR_KEY_FILE", key);
    }

    private static LauncherRun WithKeyClient(TempDir dir) =>
        new LauncherRun(dir).Set("DLS_KEY_ENDPOINT", "https://keys.example").Set("DLS_KEY_JOB_ID", "job-1");

    [Fact]
    public async Task Key_file_path_decrypts_each_variable_and_hides_the_ciphertexts()
    {
        using var dir = new TempDir();
        var result = await WithKeyFile(dir)
            .Set("DLS_AES__DB_PASSWORD", Cipher.Encrypt(Plain))
            .Set("DLS_AES__OTHER", Cipher.Encrypt("second value"))
            .Dummy("env").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"DB_PASSWORD={Plain}\n", result.Log);
        Assert.Contains("OTHER=second value\n", result.Log);
        Assert.DoesNotContain("DLS_AES__", result.Log);
    }

    [Fact]
    public async Task Key_client_path_decrypts_all_variables_in_one_call()
    {
        using var dir = new TempDir();
        var result = await WithKeyClient(dir)
            .Set("DLS_AES__A", Cipher.Encrypt("alpha"))
            .Set("DLS_AES__B", Cipher.Encrypt("beta"))
            .Set("DLS_AES__C", Cipher.Encrypt(Plain))
            .Dummy("env").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("A=alpha\n", result.Log);
        Assert.Contains("B=beta\n", result.Log);
        Assert.Contains($"C={Plain}\n", result.Log);
        Assert.DoesNotContain("DLS_AES__", result.Log);
    }

    [Theory]
    [InlineData("fail", "exited with status 4")]
    [InlineData("short", "returned 1 line(s) for 2 variable(s)")]
    [InlineData("long", "returned 3 line(s) for 2 variable(s)")]
    public async Task A_key_client_that_fails_or_miscounts_gives_125_naming_the_variables(string mode, string reason)
    {
        using var dir = new TempDir();
        var marker = dir["ran"];
        var result = await WithKeyClient(dir).Set("STANDIN_KEY_CLIENT", mode)
            .Set("DLS_AES__FIRST", Cipher.Encrypt(Plain))
            .Set("DLS_AES__SECOND", Cipher.Encrypt("other"))
            .Args("touch", marker).RunAsync();
        Assert.Equal(125, result.ExitCode);
        var error = Assert.Single(result.Messages, l => l.Contains("error:"));
        Assert.Contains("DLS_AES__FIRST, DLS_AES__SECOND", error);
        Assert.Contains(reason, error);
        Assert.False(File.Exists(marker));
        Assert.DoesNotContain(Plain, result.Stdout);
    }

    [Fact]
    public async Task A_decryptor_that_fails_gives_125_naming_the_variable()
    {
        using var dir = new TempDir();
        var result = await WithKeyFile(dir)
            .Set("DLS_AES__GOOD", Cipher.Encrypt(Plain))
            .Set("DLS_AES__BROKEN", "not-a-ciphertext")
            .Args("true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        var error = Assert.Single(result.Messages, l => l.Contains("error:"));
        Assert.Contains("cannot decrypt DLS_AES__BROKEN", error);
        Assert.DoesNotContain(Plain, result.Stdout);
    }

    [Theory]
    [InlineData("key-file")]
    [InlineData("key-client")]
    public async Task A_missing_decryption_tool_gives_125(string path)
    {
        using var dir = new TempDir();
        var run = path == "key-file" ? WithKeyFile(dir) : WithKeyClient(dir);
        var result = await run.Set("DLS_AES__X", Cipher.Encrypt(Plain))
            .Args("--dls-decryptor", "/nonexistent/dls-decryptor", "--dls-key-client", "no-such-key-client", "true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("cannot decrypt DLS_AES__X") && l.Contains("not found"));
    }

    [Fact]
    public async Task A_key_file_that_does_not_exist_gives_125()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Set("DLS_DECRYPTOR_KEY_FILE", dir["no-key"])
            .Set("DLS_AES__X", Cipher.Encrypt(Plain)).Args("true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("DLS_DECRYPTOR_KEY_FILE") && l.Contains("does not exist"));
    }

    [Fact]
    public async Task A_variable_name_that_cannot_be_exported_gives_125()
    {
        using var dir = new TempDir();
        var result = await WithKeyFile(dir).Set("DLS_AES__1BAD-NAME", Cipher.Encrypt(Plain)).Args("true").RunAsync();
        Assert.Equal(125, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("DLS_AES__1BAD-NAME") && l.Contains("not a valid variable name"));
    }

    [Fact]
    public async Task Without_any_key_source_the_variables_are_dropped_with_a_warning()
    {
        using var dir = new TempDir();
        var result = await new LauncherRun(dir).Set("DLS_AES__X", Cipher.Encrypt(Plain)).Dummy("env").RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("warning: DLS_AES__X dropped"));
        Assert.DoesNotContain("DLS_AES__X", result.Log);
        Assert.DoesNotContain("\nX=", result.Log);
    }

    [Fact]
    public async Task No_plaintext_in_launcher_messages_plan_or_any_new_file_under_tmp()
    {
        using var dir = new TempDir();
        var started = DateTime.UtcNow.AddSeconds(-1);
        // The command line itself names the secret's value: the header must mask it.
        var run = WithKeyClient(dir).Set("DLS_AES__TOKEN", Cipher.Encrypt(Plain))
            .Set("TRAINLAUNCHER_LOG_FILE", $"/tmp/dls-task-secret-{Guid.NewGuid():N}.log")
            .Args("--log-level", "debug", "--shell", "--", "test", "\"$TOKEN\"", "=", Plain);
        var result = await run.RunAsync();
        Assert.Equal(0, result.ExitCode);
        Assert.Contains(result.Messages, l => l.Contains("command:") && l.Contains("******"));
        Assert.DoesNotContain(Plain, result.Stdout);

        using var planDir = new TempDir();
        var plan = await WithKeyClient(planDir).Set("DLS_AES__TOKEN", Cipher.Encrypt(Plain)).Args("plan", "--", "echo", Plain).RunAsync();
        Assert.Equal(0, plan.ExitCode);
        Assert.Contains("TOKEN=****** (decrypted)", plan.Stdout);
        Assert.DoesNotContain(Plain, plan.Stdout);

        // find(1) lists only regular files: opening a FIFO someone left in /tmp would block.
        var find = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("find",
            ["/tmp", "-xdev", "-type", "f", "-newermt", started.ToString("yyyy-MM-dd HH:mm:ss") + " UTC", "-size", "-64M", "-print0"])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var listing = await find.StandardOutput.ReadToEndAsync();
        await find.WaitForExitAsync();
        foreach (var file in listing.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            if (file.StartsWith(dir.Path) || file.StartsWith(planDir.Path)) continue;
            byte[] bytes;
            try { bytes = File.ReadAllBytes(file); } catch (IOException) { continue; } catch (UnauthorizedAccessException) { continue; }
            Assert.False(bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(Plain)) >= 0, $"{file} holds the plaintext");
        }
        File.Delete(run.LogFile);
    }
}
