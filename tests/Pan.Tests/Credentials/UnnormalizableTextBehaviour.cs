using Grpc.Core;
using Pan.General.Member;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using static Pan.Tests.Credentials.TestCredentials;
using RegPhase = Pan.General.Member.RegisterRequest.Types.Phase;

namespace Pan.Tests.Credentials;

/// <summary>
/// SECURITY 17 for text .NET refuses to Unicode-normalise: U+FFFE (a noncharacter, valid UTF-8 on the wire, so gRPC and
/// JSON both deliver it). Display names, country codes, passwords and security answers are normalised before they are
/// checked; such input gets the field's usual refusal, never INTERNAL.
/// </summary>
public abstract class UnnormalizableTextBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : CredentialFixture
{
    private const string Fffe = "\uFFFE";

    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Client => new(Server.Grpc);

    [Fact]
    public async Task DisplayName_WithFffe_IsASpecialCharacter()
    {
        await Errors.ExpectAsync(
            () => Client.ValidateDisplayNameV2Async(new ValidateDisplayNameV2Request { DisplayName = "name" + Fffe }).ResponseAsync,
            StatusCode.InvalidArgument, "ValidateDisplayNameV2Response.ErrSpecialChar");
        var v1 = await Assert.ThrowsAsync<RpcException>(
            () => Client.ValidateDisplayNameAsync(new ValidateDisplayNameRequest { DisplayName = "name" + Fffe }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, v1.StatusCode);
        Assert.Equal("display_name", Assert.Single(v1.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task CountryCode_WithFffe_IsInvalidArgumentNamingTheCountryCode()
    {
        var (national, _) = PhoneFlows.Phones.NewNumber();

        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.RegisterAsync(new RegisterRequest
        {
            Phase = RegPhase.CheckExistence, PhaseCheckExistenceCountryCode = "886" + Fffe, PhaseCheckExistenceValue = national,
        }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("phase_check_existence_country_code", ex.BadRequest()!.FieldViolations[0].Field);
    }

    [Fact]
    public async Task SetMemberPassword_WithFffe_IsPwdIssueNamingThePassword_AndStoresNothing()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        var password = Password + Fffe;

        var ex = await Errors.ExpectAsync(
            () => Client.SetMemberPasswordAsync(new SetMemberPasswordRequest { AccessToken = access, Password = password, ConfirmPassword = password }).ResponseAsync,
            StatusCode.InvalidArgument, "ErrSetMemberPassword.PWD_ISSUE");

        Assert.Equal("password", ex.BadRequest()!.FieldViolations[0].Field);
        Assert.Null(await StoredHashAsync(Server, member.Uid));
    }

    [Fact]
    public async Task VerifyMemberByPassword_WithFffe_AnswersLikeAWrongPassword()
    {
        var member = await MemberWithPasswordAsync(Server);

        var wrong = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = "not the password" });
        var password = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName, Password = Password + Fffe });
        var name = await ExpectAuthFailed(new VerifyMemberByPasswordRequest { DisplayName = member.DisplayName + Fffe, Password = Password });

        Assert.Equal(wrong.Status.Detail, password.Status.Detail);
        Assert.Equal(wrong.Status.Detail, name.Status.Detail);
    }

    [Fact]
    public async Task NewMember_SecurityAnswerWithFffe_IsInvalidArgumentNamingTheAnswer()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var auth = await TestMembers.AuthTokenAsync(Server, owner);

        var ex = await Errors.ExpectAsync(
            () => Client.NewMemberAsync(new NewMemberRequest
            {
                AuthToken = auth, DisplayName = TestMembers.UniqueName("n"),
                SecurityQuestion = new SecurityQuestion { Question = "Pet?", Answer = "rex" + Fffe },
            }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");

        Assert.Equal("security_question.answer", ex.BadRequest()!.FieldViolations[0].Field);
    }

    [Fact]
    public async Task AuthResetVerifyPhone_DisplayNameWithFffe_AnswersLikeAnUnknownName()
    {
        var member = await TestMembers.CreateAsync(Server);
        // Why another member's phone: reset requests for one phone have a cool-down.
        var other = await TestMembers.CreateAsync(Server);

        var unknown = await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest
        {
            DisplayName = TestMembers.UniqueName("nobody"), Phone = other.Account!.PhoneE164,
        });
        var response = await Client.AuthResetVerifyPhoneAsync(new AuthResetVerifyPhoneRequest
        {
            DisplayName = member.DisplayName + Fffe, Phone = member.Account!.PhoneE164,
        });

        Assert.Equal(unknown, response);
    }

    private async Task<RpcException> ExpectAuthFailed(VerifyMemberByPasswordRequest request) =>
        await Errors.ExpectAsync(() => Client.VerifyMemberByPasswordAsync(request).ResponseAsync, StatusCode.PermissionDenied, "VerifyMemberByPasswordResponse.ErrAuthFailed");
}

public sealed class UnnormalizableTextBehaviour_Sqlite(SqliteCredentialFixture f) : UnnormalizableTextBehaviour<SqliteCredentialFixture>(f);

public sealed class UnnormalizableTextBehaviour_Postgres(PostgresCredentialFixture f) : UnnormalizableTextBehaviour<PostgresCredentialFixture>(f);
