using System.Globalization;

namespace Pan.Contract.Tests.Seed;

/// <summary>
/// Parses the generated protobuf doc of the seed (pan-proto-first): file headings (lines
/// ending in <c>.proto</c>), item headings (messages, enums, services, dotted when nested),
/// and the tables after them. The seeds README rules are applied here: lost field names
/// are <c>email</c>, fields are numbered by position, packages follow the file paths, and
/// <c>MemberServiceV2</c> (no method table) has one method per <c>XxxRequest</c> of its file.
/// </summary>
internal static class SeedParser
{
    /// <summary>The one service the seed lists without a method table (seeds README).</summary>
    public const string DerivedServiceName = "MemberServiceV2";

    private enum TableKind { None, Fields, EnumValues, Methods }

    private static readonly HashSet<string> ScalarTypes = new(StringComparer.Ordinal)
    {
        "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
        "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
    };

    public static bool IsScalar(string type) => ScalarTypes.Contains(type);

    public static IReadOnlyList<SeedFile> Parse(string text)
    {
        var files = new List<SeedFile>();
        FileBuilder? file = null;
        ItemBuilder? item = null;
        var lineNumber = 0;

        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('|'))
            {
                if (item is null)
                {
                    throw Error(lineNumber, "table row before any message, enum or service heading");
                }

                item.AddRow(SplitRow(line), lineNumber);
                continue;
            }

            if (line.EndsWith(".proto", StringComparison.Ordinal))
            {
                item?.CompleteInto(file!);
                item = null;
                if (file is not null)
                {
                    files.Add(file.Build());
                }

                file = new FileBuilder(line);
                continue;
            }

            // Lines before the first file heading are the doc's title and version.
            if (file is null)
            {
                continue;
            }

            item?.CompleteInto(file);
            item = new ItemBuilder(line);
        }

        item?.CompleteInto(file!);
        if (file is not null)
        {
            files.Add(file.Build());
        }

        return files;
    }

    /// <summary>Package of a seed file: <c>general/member/first.proto</c> → <c>pan.general.member</c>.</summary>
    public static string PackageOf(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash < 0 ? "pan" : "pan." + path[..slash].Replace('/', '.');
    }

    private static List<string> SplitRow(string line)
    {
        // "| uid | int64 | ||" → ["uid", "int64", "", ""]: drop what precedes the first
        // and follows the last pipe, trim the rest.
        var parts = line.Split('|');
        return parts.Skip(1).Take(Math.Max(0, parts.Length - 2)).Select(p => p.Trim()).ToList();
    }

    private static FormatException Error(int lineNumber, string message) =>
        new($"Seed document line {lineNumber.ToString(CultureInfo.InvariantCulture)}: {message}.");

    private sealed class FileBuilder(string path)
    {
        public string Path { get; } = path;
        public string Package { get; } = PackageOf(path);
        public List<SeedMessage> Messages { get; } = [];
        public List<SeedEnum> Enums { get; } = [];
        public List<SeedService> Services { get; } = [];
        public bool HasDerivedService { get; set; }

        public SeedFile Build()
        {
            if (HasDerivedService)
            {
                Services.Add(DeriveService());
            }

            return new SeedFile(Path, Package, Messages, Enums, Services);
        }

        // Seeds README: MemberServiceV2's methods are the XxxRequest/XxxResponse pairs of
        // its file, Xxx(XxxRequest) returns (XxxResponse), even where XxxResponse is not
        // listed (UpdateAvatar).
        private SeedService DeriveService()
        {
            var methods = Messages
                .Select(m => m.Name)
                .Where(n => !n.Contains('.', StringComparison.Ordinal) && n.EndsWith("Request", StringComparison.Ordinal))
                .Select(n => n[..^"Request".Length])
                .Select(n => new SeedMethod(n, n + "Request", n + "Response"))
                .ToList();
            return new SeedService(DerivedServiceName, methods, Derived: true);
        }
    }

    private sealed class ItemBuilder(string name)
    {
        private readonly List<SeedField> _fields = [];
        private readonly List<SeedEnumValue> _values = [];
        private readonly List<SeedMethod> _methods = [];
        private TableKind _kind = TableKind.None;
        private bool _separatorSeen;

        public void AddRow(List<string> cells, int lineNumber)
        {
            var first = cells.Count > 0 ? cells[0] : "";
            var second = cells.Count > 1 ? cells[1] : "";
            if (_kind == TableKind.None)
            {
                _kind = (first, second) switch
                {
                    ("Field", "Type") => TableKind.Fields,
                    ("Name", "Number") => TableKind.EnumValues,
                    ("Method Name", "Request Type") => TableKind.Methods,
                    _ => throw Error(lineNumber, $"'{name}': expected a table header, found '{string.Join(" | ", cells)}'"),
                };
                return;
            }

            if (!_separatorSeen)
            {
                if (!first.StartsWith("---", StringComparison.Ordinal))
                {
                    throw Error(lineNumber, $"'{name}': expected the |---| row after the table header");
                }

                _separatorSeen = true;
                return;
            }

            switch (_kind)
            {
                case TableKind.Fields:
                    _fields.Add(ParseField(cells, _fields.Count + 1, lineNumber));
                    break;
                case TableKind.EnumValues:
                    if (!int.TryParse(second, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                    {
                        throw Error(lineNumber, $"'{name}': enum value '{first}' has no number");
                    }

                    _values.Add(new SeedEnumValue(first, number));
                    break;
                case TableKind.Methods:
                    if (cells.Count < 3 || cells.Take(3).Any(c => c.Length == 0))
                    {
                        throw Error(lineNumber, $"'{name}': method row needs name, request and response type");
                    }

                    _methods.Add(new SeedMethod(cells[0], cells[1], cells[2]));
                    break;
            }
        }

        private SeedField ParseField(List<string> cells, int number, int lineNumber)
        {
            // Seeds README: a row "| string | |||" is a field whose name the doc renderer
            // dropped; it is `email` in every case.
            if (cells.Count < 2 || cells[1].Length == 0)
            {
                if (cells.Count == 0 || cells[0] != "string")
                {
                    throw Error(lineNumber, $"'{name}': nameless field row that is not a string (README: lost names are string email)");
                }

                return new SeedField("email", "string", Repeated: false, number);
            }

            // The Label column sometimes holds the description ("Deprecated. …", "僅會員自身可見"):
            // only an exact "repeated" is a label.
            var repeated = cells.Count > 2 && cells[2] == "repeated";
            return new SeedField(cells[0], cells[1], repeated, number);
        }

        public void CompleteInto(FileBuilder file)
        {
            switch (_kind)
            {
                case TableKind.Fields:
                    file.Messages.Add(new SeedMessage(name, _fields));
                    break;
                case TableKind.EnumValues:
                    file.Enums.Add(new SeedEnum(name, _values));
                    break;
                case TableKind.Methods:
                    file.Services.Add(new SeedService(name, _methods, Derived: false));
                    break;
                case TableKind.None when name == DerivedServiceName:
                    file.HasDerivedService = true;
                    break;
                default:
                    // A heading with no table is a message without fields (seeds README).
                    file.Messages.Add(new SeedMessage(name, Fields: null));
                    break;
            }
        }
    }
}
