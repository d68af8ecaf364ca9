namespace Pan.Contract.Tests.Seed;

/// <summary>One .proto file of the seed document, with everything declared in it.</summary>
/// <param name="Path">Path as written in the seed, e.g. <c>general/member/first.proto</c>.</param>
/// <param name="Package">Protobuf package, which follows the path (seeds README): <c>pan.general.member</c>.</param>
internal sealed record SeedFile(
    string Path,
    string Package,
    IReadOnlyList<SeedMessage> Messages,
    IReadOnlyList<SeedEnum> Enums,
    IReadOnlyList<SeedService> Services)
{
    /// <summary>The file name protoc gives the file: the seed path under <c>pan/</c>.</summary>
    public string ProtoName => "pan/" + Path;

    public string FullName(string relativeName) => Package + "." + relativeName;
}

/// <param name="Name">Package-relative dotted name, e.g. <c>ChangeMemberEmailResponse.Error</c>.</param>
/// <param name="Fields">The field table, or null when the seed shows the heading without a table.</param>
internal sealed record SeedMessage(string Name, IReadOnlyList<SeedField>? Fields);

/// <param name="Type">As written in the seed: a scalar keyword, a package-relative name or a full name.</param>
/// <param name="Number">Position in the table, counted from 1 (the seed has no field numbers).</param>
internal sealed record SeedField(string Name, string Type, bool Repeated, int Number)
{
    public override string ToString() => $"{(Repeated ? "repeated " : "")}{Type} {Name} = {Number}";
}

internal sealed record SeedEnum(string Name, IReadOnlyList<SeedEnumValue> Values);

internal sealed record SeedEnumValue(string Name, int Number)
{
    public override string ToString() => $"{Name} = {Number}";
}

/// <param name="Derived">True when the seed has no method table and the methods were derived (MemberServiceV2).</param>
internal sealed record SeedService(string Name, IReadOnlyList<SeedMethod> Methods, bool Derived);

internal sealed record SeedMethod(string Name, string RequestType, string ResponseType)
{
    public override string ToString() => $"{Name}({RequestType}) returns ({ResponseType})";
}
