namespace Pan.Contract.Tests.Seed;

/// <summary>
/// The seed document (pan-proto-first v1.0.190), found next to the repository and
/// parsed once per test run. A missing document fails the tests; it is never skipped,
/// because without it nothing guards the contract.
/// </summary>
internal static class SeedDocument
{
    public const string RelativePath = "../shared/seeds/000_4bc1b503ae63bbcb.txt";

    private static readonly Lazy<IReadOnlyList<SeedFile>> Parsed = new(Load);

    /// <summary>The seed's ten files. Throws with a clear message when the document is missing.</summary>
    public static IReadOnlyList<SeedFile> Files => Parsed.Value;

    public static string Locate()
    {
        var root = FindRepositoryRoot(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException(
                $"Cannot find the repository root (a folder holding Pan.slnx or .git) above '{AppContext.BaseDirectory}'.");
        var path = Path.GetFullPath(Path.Combine(root, RelativePath));
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The contract seed document is missing: expected '{path}' ({RelativePath} from the repository root '{root}'). " +
                "The contract tests compare the protos against it and cannot run without it.",
                path);
        }

        return path;
    }

    private static string? FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pan.slnx")) ||
                Directory.Exists(Path.Combine(dir.FullName, ".git")) ||
                File.Exists(Path.Combine(dir.FullName, ".git")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    private static IReadOnlyList<SeedFile> Load()
    {
        var path = Locate();
        var files = SeedParser.Parse(File.ReadAllText(path));
        if (files.Count == 0)
        {
            throw new InvalidOperationException($"The seed document '{path}' lists no .proto files.");
        }

        return files;
    }
}
