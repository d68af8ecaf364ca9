using Pan.Contract.Tests.Seed;

namespace Pan.Contract.Tests;

/// <summary>The seed parser reads the doc's quirks the way the seeds README says.</summary>
public sealed class SeedParserTests
{
    private const string Sample = """
        v1.0.190
        pan-proto-first
        general/member/first.proto
        Identity
        | Field | Type | Label | Description |
        |---|---|---|---|
        | uid | int64 | ||
        | group_id | int64 | Deprecated. group_id deprecated | |
        | string | |||
        | uuids | string | repeated |
        | type | Identity.Kind |
        Identity.Kind
        | Name | Number | Description |
        |---|---|---|
        | KindNone | 0 | |
        | KindMain | 1001 |
        PingRequest
        LogoutResponse.Error
        PingResponse
        MemberServiceV2
        oauth/app.proto
        App
        | Method Name | Request Type | Response Type | Description |
        |---|---|---|---|
        | GetDetail | GetDetailRequest | GetDetailResponse | member api |
        """;

    [Fact]
    public void Parse_AppliesReadmeRules()
    {
        var files = SeedParser.Parse(Sample);

        Assert.Equal(["general/member/first.proto", "oauth/app.proto"], files.Select(f => f.Path));
        var member = files[0];
        Assert.Equal("pan.general.member", member.Package);
        Assert.Equal("pan.oauth", files[1].Package);

        var identity = member.Messages[0];
        Assert.Equal("Identity", identity.Name);
        Assert.Equal(
            [
                new SeedField("uid", "int64", false, 1),
                new SeedField("group_id", "int64", false, 2),
                new SeedField("email", "string", false, 3),
                new SeedField("uuids", "string", true, 4),
                new SeedField("type", "Identity.Kind", false, 5),
            ],
            identity.Fields!);

        var kind = Assert.Single(member.Enums);
        Assert.Equal("Identity.Kind", kind.Name);
        Assert.Equal([new SeedEnumValue("KindNone", 0), new SeedEnumValue("KindMain", 1001)], kind.Values);

        Assert.Equal(["PingRequest", "LogoutResponse.Error", "PingResponse"], member.Messages.Skip(1).Select(m => m.Name));
        Assert.All(member.Messages.Skip(1), m => Assert.Null(m.Fields));
    }

    [Fact]
    public void Parse_DerivesMemberServiceV2FromRequestMessages()
    {
        var files = SeedParser.Parse(Sample);

        var service = Assert.Single(files[0].Services);
        Assert.True(service.Derived);
        Assert.Equal([new SeedMethod("Ping", "PingRequest", "PingResponse")], service.Methods);

        var app = Assert.Single(files[1].Services);
        Assert.False(app.Derived);
        Assert.Equal([new SeedMethod("GetDetail", "GetDetailRequest", "GetDetailResponse")], app.Methods);
    }

    [Fact]
    public void Parse_RowWithoutHeader_Throws()
    {
        var ex = Assert.Throws<FormatException>(() => SeedParser.Parse("a/b.proto\nThing\n| x | int64 | |\n"));

        Assert.Contains("line 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NamelessNonStringField_Throws() =>
        Assert.Throws<FormatException>(() => SeedParser.Parse(
            "a/b.proto\nThing\n| Field | Type | Label |\n|---|---|---|\n| int64 | |||\n"));
}
