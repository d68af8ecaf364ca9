using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client.Web;
using Microsoft.Extensions.DependencyInjection;
using Pan.Data.Accounts;
using Pan.Data.Members;
using Pan.General.Member;
using Pan.Server.DisplayNames;
using Pan.Server.Members;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.DisplayNames;

/// <summary>Display-name rules and the error model, seen through every transport.</summary>
public abstract class DisplayNameBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture
{
    private MemberServiceV2.MemberServiceV2Client Grpc => new(fixture.Server.Grpc);

    [Fact]
    public async Task ValidateDisplayNameV2_FreeName_Succeeds()
    {
        await Grpc.ValidateDisplayNameV2Async(new ValidateDisplayNameV2Request { DisplayName = "小明 the 2nd" });
    }

    [Theory]
    [InlineData("a")]
    [InlineData("abcdefghijklmnopqrstu")]
    [InlineData("   ")]
    public async Task ValidateDisplayNameV2_BadLength_IsErrLength(string name)
    {
        var ex = await Errors.ExpectAsync(
            () => Grpc.ValidateDisplayNameV2Async(new ValidateDisplayNameV2Request { DisplayName = name }).ResponseAsync,
            StatusCode.InvalidArgument, "ValidateDisplayNameV2Response.ErrLength");
        Assert.Equal("1003", ex.Info().Metadata["code"]);
        Assert.Equal("display_name", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Theory]
    [InlineData("bad!name")]
    [InlineData("two  spaces")]
    [InlineData("emoji😀")]
    [InlineData("tab\tname")]
    public async Task ValidateDisplayNameV2_SpecialCharacters_IsErrSpecialChar(string name)
    {
        await Errors.ExpectAsync(
            () => Grpc.ValidateDisplayNameV2Async(new ValidateDisplayNameV2Request { DisplayName = name }).ResponseAsync,
            StatusCode.InvalidArgument, "ValidateDisplayNameV2Response.ErrSpecialChar");
    }

    [Fact]
    public async Task TakenName_IsDuplicated_IgnoringCaseAndWidth()
    {
        var name = "Taken" + Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await CreateMemberAsync(name);
        var fullWidthUpper = string.Concat(name.ToUpperInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? (char)(c + 0xFEE0) : c));

        await Errors.ExpectAsync(
            () => Grpc.ValidateDisplayNameV2Async(new ValidateDisplayNameV2Request { DisplayName = fullWidthUpper }).ResponseAsync,
            StatusCode.AlreadyExists, "ValidateDisplayNameV2Response.ErrDuplicated");
        await Errors.ExpectAsync(
            () => Grpc.ValidateDisplayNameAsync(new ValidateDisplayNameRequest { DisplayName = name.ToLowerInvariant() }).ResponseAsync,
            StatusCode.AlreadyExists, "ErrDisplayName.DISPLAY_NAME_ALREADY_EXISTS");
    }

    /// <summary>
    /// Names of at most 20 user-perceived characters that the database cannot hold: each character of the first is a
    /// letter with three combining accents (80 code points, over members.display_name's 64); each of the second is
    /// U+FDFA, one Arabic ligature letter whose NFKC form is 18 letters (a 360-character key, over display_name_key's 128).
    /// </summary>
    [Theory]
    [InlineData("q\u0301\u0302\u0303")]
    [InlineData("\uFDFA")]
    public async Task ANameTooLongToStore_IsErrLength_AndNewMemberRefusesItNamingTheField_NeverInternal(string character)
    {
        var name = string.Concat(Enumerable.Repeat(character, 20));
        var ex = await Errors.ExpectAsync(
            () => Grpc.ValidateDisplayNameV2Async(new ValidateDisplayNameV2Request { DisplayName = name }).ResponseAsync,
            StatusCode.InvalidArgument, "ValidateDisplayNameV2Response.ErrLength");
        Assert.Equal("display_name", Assert.Single(ex.BadRequest()!.FieldViolations).Field);

        var owner = await TestMembers.CreateAsync(fixture.Server);
        var created = await Errors.ExpectAsync(
            async () => await Grpc.NewMemberAsync(new NewMemberRequest { AuthToken = await TestMembers.AuthTokenAsync(fixture.Server, owner), DisplayName = name }),
            StatusCode.InvalidArgument, "ErrNewMember.DISPLAY_NAME_INVALID");
        Assert.Equal("display_name", Assert.Single(created.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task ValidateDisplayName_BadFormat_IsInvalidArgumentNamingTheField()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(
            () => Grpc.ValidateDisplayNameAsync(new ValidateDisplayNameRequest { DisplayName = "x" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("display_name", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task ErrorOverGrpcWebText_UnderPrefix_CarriesTheSeedErrorName()
    {
        using var channel = fixture.Server.GrpcWeb(GrpcWebMode.GrpcWebText, "/gapi");
        var client = new MemberServiceV2.MemberServiceV2Client(channel);
        await Errors.ExpectAsync(
            () => client.ValidateDisplayNameV2Async(new ValidateDisplayNameV2Request { DisplayName = "no!" }).ResponseAsync,
            StatusCode.InvalidArgument, "ValidateDisplayNameV2Response.ErrSpecialChar");
    }

    [Fact]
    public async Task ErrorOverHttpJson_HasStatusErrorInfoAndFieldViolations()
    {
        using var response = await fixture.Server.Http.PostAsync("/v2/member/validate-display-name-v2",
            new StringContent("{\"displayName\":\"x\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, body.RootElement.GetProperty("code").GetInt32());
        var details = body.RootElement.GetProperty("details").EnumerateArray().ToList();
        var info = details.Single(d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc.ErrorInfo");
        Assert.Equal("ValidateDisplayNameV2Response.ErrLength", info.GetProperty("reason").GetString());
        Assert.Equal("1003", info.GetProperty("metadata").GetProperty("code").GetString());
        var bad = details.Single(d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc.BadRequest");
        Assert.Equal("display_name", bad.GetProperty("fieldViolations")[0].GetProperty("field").GetString());
    }

    private async Task CreateMemberAsync(string name)
    {
        await using var scope = fixture.Server.Services.CreateAsyncScope();
        var creator = scope.ServiceProvider.GetRequiredService<MemberCreator>();
        var phone = "+8869" + Random.Shared.NextInt64(0, 90_000_000).ToString("D8", System.Globalization.CultureInfo.InvariantCulture);
        await creator.CreateAsync(new Account { PhoneE164 = phone }, new Member { DisplayName = name, DisplayNameKey = DisplayNameRules.Key(name) }, default);
    }
}

public sealed class DisplayNameBehaviour_Sqlite(SqliteServerFixture f) : DisplayNameBehaviour<SqliteServerFixture>(f);

public sealed class DisplayNameBehaviour_Postgres(PostgresServerFixture f) : DisplayNameBehaviour<PostgresServerFixture>(f);
