using System.Collections;
using TrainLauncher.Storage;

// fetch-harness fetch|upload SOURCE TARGET [TRANSFERS]
//   fetch obs://bucket/prefix/ /local/dir    upload /local/dir obs://bucket/prefix/
// Settings come from the environment (OBS_ENDPOINT, AWS_ACCESS_KEY_ID, ...), as in the launcher.
if (args.Length is < 3 or > 4 || args[0] is not ("fetch" or "upload"))
{
    Console.Error.WriteLine("usage: fetch-harness fetch|upload SOURCE TARGET [TRANSFERS]");
    return 2;
}
var environment = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "");
try
{
    var settings = ObjectStoreSettings.Resolve(environment, transfersOption: args.ElementAtOrDefault(3));
    Console.WriteLine($"storage: {settings.Describe()}");
    using var store = new ObjectStore(settings);
    var stats = args[0] == "fetch"
        ? await store.DownloadPrefixAsync(ObjectUrl.Parse(args[1]), args[2], Console.WriteLine, CancellationToken.None)
        : await store.UploadDirectoryAsync(args[1], ObjectUrl.Parse(args[2]), Console.WriteLine, CancellationToken.None);
    return stats.Files > 0 ? 0 : 1;
}
catch (ObjectStoreException error)
{
    Console.Error.WriteLine(error.Message);
    return 127;
}
