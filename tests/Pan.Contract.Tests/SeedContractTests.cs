using Google.Protobuf.Reflection;
using Pan.Contract.Tests.Seed;

namespace Pan.Contract.Tests;

/// <summary>
/// The compiled contract (Pan.Contracts) against the seed document: every file, message,
/// field, enum value, service and method of the seed must be there, with the same names,
/// types, labels, numbers and order. Each test lists all of its mismatches at once.
/// </summary>
public sealed class SeedContractTests
{
    private static readonly string[] SeedFilePaths =
    [
        "atom/member/first.proto",
        "general/admin/admin.proto",
        "general/application/app.proto",
        "general/member/dangerous/dangerous.proto",
        "general/member/error.proto",
        "general/member/first.proto",
        "lever/member/error.proto",
        "lever/member/first.proto",
        "oauth/app.proto",
        "oauth/consent.proto",
    ];

    [Fact]
    public void SeedDocument_IsFoundAndParsed()
    {
        var files = ContractSpec.Seed;

        Assert.Equal(SeedFilePaths.Order(StringComparer.Ordinal), files.Select(f => f.Path).Order(StringComparer.Ordinal));
        var v2 = Assert.Single(files.SelectMany(f => f.Services), s => s.Derived);
        Assert.Equal(SeedParser.DerivedServiceName, v2.Name);
        Assert.Equal(45, v2.Methods.Count);
        Assert.Equal("AccessToken", v2.Methods[0].Name);
        Assert.Equal("VerifyPhoneCode", v2.Methods[^1].Name);
    }

    [Fact]
    public void Files_MatchSeed()
    {
        var mismatches = new Mismatches();
        var compiled = CompiledContract.Files.ToDictionary(f => f.Name, StringComparer.Ordinal);

        foreach (var seed in ContractSpec.Seed)
        {
            if (!compiled.TryGetValue(seed.ProtoName, out var file))
            {
                mismatches.Add($"{seed.ProtoName}: file missing from Pan.Contracts");
                continue;
            }

            if (file.Package != seed.Package)
            {
                mismatches.Add($"{seed.ProtoName}: package is '{file.Package}', expected '{seed.Package}'");
            }

            // Why: the default namespace (Pan.General.Member, ...) is the one the code uses.
            if (file.GetOptions()?.HasCsharpNamespace == true)
            {
                mismatches.Add($"{seed.ProtoName}: sets csharp_namespace; the default namespace is required");
            }
        }

        var seedNames = ContractSpec.Seed.Select(f => f.ProtoName).ToHashSet(StringComparer.Ordinal);
        foreach (var extra in compiled.Keys.Where(n => !seedNames.Contains(n)))
        {
            mismatches.Add($"{extra}: file not in the seed");
        }

        mismatches.AssertNone("file");
    }

    [Fact]
    public void Messages_MatchSeed()
    {
        var mismatches = new Mismatches();
        var designed = ContractSpec.DesignedMessages;

        foreach (var file in ContractSpec.Seed)
        {
            foreach (var message in file.Messages)
            {
                var fullName = file.FullName(message.Name);
                if (FindMessage(file, fullName, mismatches) is not { } actual)
                {
                    continue;
                }

                if (message.Fields is not null)
                {
                    CompareFields(fullName, WithAdditions(fullName, message.Fields), actual, file.Package, "the seed", mismatches);
                }
                else if (!designed.Contains(fullName) && actual.Fields.InDeclarationOrder().Count > 0)
                {
                    // A heading without a table is a message without fields (seeds README);
                    // only the designed ones (DesignedMessages_MatchDesign) may have fields.
                    var fields = string.Join("; ", actual.Fields.InDeclarationOrder().Select(CompiledContract.Describe));
                    mismatches.Add($"{fullName}: the seed lists no fields, found {fields}");
                }
            }
        }

        mismatches.AssertNone("message");
    }

    [Fact]
    public void DesignedMessages_MatchDesign()
    {
        var mismatches = new Mismatches();
        var seedMessages = ContractSpec.Seed
            .SelectMany(f => f.Messages.Select(m => (Name: f.FullName(m.Name), m.Fields)))
            .ToDictionary(m => m.Name, m => m.Fields, StringComparer.Ordinal);

        foreach (var file in ContractSpec.Design)
        {
            foreach (var message in file.Messages)
            {
                var fullName = file.FullName(message.Name);
                if (seedMessages.TryGetValue(fullName, out var seedFields) && seedFields is not null)
                {
                    mismatches.Add($"{fullName}: the seed has its field table; a design may only fill a gap");
                }

                if (FindMessage(file, fullName, mismatches) is { } actual)
                {
                    // A heading without a table is a message without fields, as in the seed.
                    CompareFields(fullName, message.Fields ?? [], actual, file.Package, "the design", mismatches);
                }
            }
        }

        mismatches.AssertNone("designed message", "the design in ContractSpec");
    }

    [Fact]
    public void Additions_OnlyAppendToSeedMessagesWithAFieldTable()
    {
        var mismatches = new Mismatches();
        var seedMessages = ContractSpec.Seed
            .SelectMany(f => f.Messages.Select(m => (Name: f.FullName(m.Name), m.Fields)))
            .ToDictionary(m => m.Name, m => m.Fields, StringComparer.Ordinal);

        foreach (var (name, fields) in ContractSpec.Additions)
        {
            if (!seedMessages.TryGetValue(name, out var seedFields) || seedFields is null)
            {
                mismatches.Add($"{name}: an addition must append to a seed message with a field table");
            }
            else if (fields.Count == 0)
            {
                mismatches.Add($"{name}: an addition without fields");
            }
            else if (fields.Select(f => f.Name).Intersect(seedFields.Select(f => f.Name), StringComparer.Ordinal).FirstOrDefault() is { } clash)
            {
                mismatches.Add($"{name}: the addition's field '{clash}' is already the seed's");
            }
        }

        mismatches.AssertNone("addition", "the additions in ContractSpec");
    }

    [Fact]
    public void Enums_MatchSeedAndDesign()
    {
        var mismatches = new Mismatches();

        foreach (var file in ContractSpec.Seed.Concat(ContractSpec.Design))
        {
            foreach (var seedEnum in file.Enums)
            {
                var fullName = file.FullName(seedEnum.Name);
                if (!CompiledContract.Enums.TryGetValue(fullName, out var actual))
                {
                    var asMessage = CompiledContract.Messages.ContainsKey(fullName) ? " (declared as a message instead)" : "";
                    mismatches.Add($"{fullName}: enum missing{asMessage}");
                    continue;
                }

                CheckFile(fullName, actual.File, file, mismatches);
                var values = actual.Values;
                for (var i = 0; i < Math.Max(seedEnum.Values.Count, values.Count); i++)
                {
                    if (i >= values.Count)
                    {
                        mismatches.Add($"{fullName}: value #{i + 1} '{seedEnum.Values[i]}' missing");
                    }
                    else if (i >= seedEnum.Values.Count)
                    {
                        mismatches.Add($"{fullName}: value #{i + 1} '{values[i].Name} = {values[i].Number}' is not in the seed");
                    }
                    else if (values[i].Name != seedEnum.Values[i].Name || values[i].Number != seedEnum.Values[i].Number)
                    {
                        mismatches.Add(
                            $"{fullName}: value #{i + 1} is '{values[i].Name} = {values[i].Number}', expected '{seedEnum.Values[i]}'");
                    }
                }
            }
        }

        mismatches.AssertNone("enum");
    }

    [Fact]
    public void Services_MatchSeed()
    {
        var mismatches = new Mismatches();

        foreach (var file in ContractSpec.Seed)
        {
            foreach (var service in file.Services)
            {
                var fullName = file.FullName(service.Name);
                if (!CompiledContract.Services.TryGetValue(fullName, out var actual))
                {
                    mismatches.Add($"{fullName}: service missing");
                    continue;
                }

                CheckFile(fullName, actual.File, file, mismatches);
                CompareMethods(fullName, service, actual, file.Package, mismatches);
            }
        }

        mismatches.AssertNone("service");
    }

    [Fact]
    public void Contract_DeclaresNothingBeyondSeedAndDesign()
    {
        var mismatches = new Mismatches();
        var allowed = ContractSpec.AllTypeNames;

        foreach (var name in CompiledContract.Messages.Keys.Concat(CompiledContract.Enums.Keys).Where(n => !allowed.Contains(n)))
        {
            mismatches.Add($"{name}: declared in the protos but neither in the seed nor in the design (ContractSpec)");
        }

        var seedServices = ContractSpec.Seed
            .SelectMany(f => f.Services.Select(s => f.FullName(s.Name)))
            .ToHashSet(StringComparer.Ordinal);
        foreach (var name in CompiledContract.Services.Keys.Where(n => !seedServices.Contains(n)))
        {
            mismatches.Add($"{name}: service not in the seed");
        }

        mismatches.AssertNone("extra type");
    }

    private static MessageDescriptor? FindMessage(SeedFile file, string fullName, Mismatches mismatches)
    {
        if (!CompiledContract.Messages.TryGetValue(fullName, out var actual))
        {
            var asEnum = CompiledContract.Enums.ContainsKey(fullName) ? " (declared as an enum instead)" : "";
            mismatches.Add($"{fullName}: message missing{asEnum}");
            return null;
        }

        CheckFile(fullName, actual.File, file, mismatches);
        return actual;
    }

    private static void CheckFile(string fullName, FileDescriptor actual, SeedFile expected, Mismatches mismatches)
    {
        if (actual.Name != expected.ProtoName)
        {
            mismatches.Add($"{fullName}: declared in {actual.Name}, expected in {expected.ProtoName}");
        }
    }

    private static void CompareFields(
        string fullName, IReadOnlyList<SeedField> expected, MessageDescriptor actual, string package, string source, Mismatches mismatches)
    {
        var fields = actual.Fields.InDeclarationOrder();
        for (var i = 0; i < Math.Max(expected.Count, fields.Count); i++)
        {
            if (i >= fields.Count)
            {
                mismatches.Add($"{fullName}: field #{i + 1} '{Resolved(expected[i], package)}' missing");
                continue;
            }

            var found = CompiledContract.Describe(fields[i]);
            if (i >= expected.Count)
            {
                mismatches.Add($"{fullName}: field #{i + 1} '{found}' is not in {source}");
                continue;
            }

            var wanted = Resolved(expected[i], package);
            if (found != wanted)
            {
                mismatches.Add($"{fullName}: field #{i + 1} is '{found}', expected '{wanted}'");
            }
        }
    }

    /// <summary>The seed's fields followed by Pan's additions to the message, numbered on from the seed's.</summary>
    private static IReadOnlyList<SeedField> WithAdditions(string fullName, IReadOnlyList<SeedField> seedFields) =>
        ContractSpec.Additions.TryGetValue(fullName, out var added)
            ? [.. seedFields, .. added.Select((f, i) => f with { Number = seedFields.Count + i + 1 })]
            : seedFields;

    private static string Resolved(SeedField field, string package) =>
        (field with { Type = ContractSpec.Resolve(field.Type, package) }).ToString();

    private static void CompareMethods(
        string fullName, SeedService expected, ServiceDescriptor actual, string package, Mismatches mismatches)
    {
        var wanted = expected.Methods
            .Select(m => new SeedMethod(m.Name, ContractSpec.Resolve(m.RequestType, package), ContractSpec.Resolve(m.ResponseType, package)))
            .Concat(ContractSpec.ExtensionMethods.GetValueOrDefault(fullName) ?? [])
            .ToList();
        var found = actual.Methods
            .Select(m => new SeedMethod(m.Name, m.InputType.FullName, m.OutputType.FullName))
            .ToList();

        foreach (var method in actual.Methods.Where(m => m.IsClientStreaming || m.IsServerStreaming))
        {
            mismatches.Add($"{fullName}.{method.Name}: streaming, the seed's methods are unary");
        }

        if (expected.Derived)
        {
            // Why a set: the seed gives MemberServiceV2 no method table, hence no order.
            foreach (var m in wanted.Except(found))
            {
                mismatches.Add($"{fullName}: method '{m}' missing or different");
            }

            foreach (var m in found.Except(wanted))
            {
                mismatches.Add($"{fullName}: method '{m}' is not an XxxRequest/XxxResponse pair of the seed");
            }

            return;
        }

        for (var i = 0; i < Math.Max(wanted.Count, found.Count); i++)
        {
            if (i >= found.Count)
            {
                mismatches.Add($"{fullName}: method #{i + 1} '{wanted[i]}' missing");
            }
            else if (i >= wanted.Count)
            {
                mismatches.Add($"{fullName}: method #{i + 1} '{found[i]}' is not in the seed");
            }
            else if (found[i] != wanted[i])
            {
                mismatches.Add($"{fullName}: method #{i + 1} is '{found[i]}', expected '{wanted[i]}'");
            }
        }
    }
}
