using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Pan.General.Member;
using Pan.Tests.Infrastructure;
using LoginPhase = Pan.General.Member.LoginRequest.Types.Phase;
using LoginType = Pan.General.Member.LoginRequest.Types.LoginType;

namespace Pan.Tests.Email;

/// <summary>
/// An unverified address reserves nothing: only a verified address belongs to a member. A member who adds someone
/// else's address without verifying it (a squatter) cannot stop the owner from adding, verifying and signing in with it.
/// </summary>
public abstract class EmailSquattingBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : EmailFixture
{
    private readonly Mailboxes mail = new(fixture);

    private MemberServiceV2.MemberServiceV2Client Client => mail.Client;

    [Fact]
    public async Task SetMemberEmail_OfAnAddressAnotherMemberHoldsUnverified_Succeeds_AndTheOwnerVerifiesIt()
    {
        var (squatter, address) = await SquatAsync();
        var owner = await mail.RegisterAsync();

        await ClaimAsync(owner, address.ToLowerInvariant());
        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(address, 2)) });

        Assert.True(await mail.IsVerifiedAsync(owner.Uid));
        // The squatter's claim stays, unverified (see EmailVerification): it can never be verified now.
        var claim = await mail.DbAsync(db => db.Members.Where(m => m.Uid == squatter.Uid).Select(m => new { m.EmailKey, m.EmailVerified }).FirstAsync());
        Assert.Equal((address.ToLowerInvariant(), false), (claim.EmailKey, claim.EmailVerified));
    }

    [Fact]
    public async Task VerifyEmailCode_AfterAnotherMemberVerifiedTheAddress_IsEmailExists()
    {
        var (squatter, address) = await SquatAsync();
        var squattersCode = SmtpInbox.CodeOf(await mail.MailAsync(address));
        var owner = await mail.RegisterAsync();
        await ClaimAsync(owner, address);
        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(address, 2)) });

        await Errors.ExpectAsync(() => Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = squattersCode }).ResponseAsync,
            StatusCode.AlreadyExists, "ErrSetMemberEmail.EMAIL_EXISTS");

        Assert.False(await mail.IsVerifiedAsync(squatter.Uid));
        Assert.True(await mail.IsVerifiedAsync(owner.Uid));
    }

    [Fact]
    public async Task VerifyEmailLink_AfterAnotherMemberVerifiedTheAddress_IsRefusedWithoutAnError()
    {
        var (squatter, address) = await SquatAsync();
        var squattersLink = SmtpInbox.LinkOf(await mail.MailAsync(address), "/account/verify-email");
        var owner = await mail.RegisterAsync();
        await ClaimAsync(owner, address);
        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(address, 2)) });

        using var http = new HttpClient { BaseAddress = fixture.Server.HttpUri };
        using var page = await http.GetAsync(squattersLink.PathAndQuery);

        Assert.True((int)page.StatusCode < 500, $"the page answered {page.StatusCode}");
        Assert.False(await mail.IsVerifiedAsync(squatter.Uid));
    }

    [Fact]
    public async Task SetMemberEmail_OfAnAddressAnotherMemberVerified_IsStillEmailExists_ForAFormerSquatterToo()
    {
        var (squatter, address) = await SquatAsync();
        var owner = await mail.RegisterAsync();
        await ClaimAsync(owner, address);
        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(address, 2)) });
        var latecomer = await mail.RegisterAsync();

        foreach (var member in new[] { squatter, latecomer })
        {
            fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
            var proof = await mail.ProofAsync(member);
            await Errors.ExpectAsync(
                () => Client.SetMemberEmailAsync(new SetMemberEmailRequest { AccessToken = member.AccessToken, Email = address.ToUpperInvariant(), VerifyToken = proof }).ResponseAsync,
                StatusCode.AlreadyExists, "ErrSetMemberEmail.EMAIL_EXISTS");
        }

        Assert.Equal(2, mail.Count(address));
    }

    [Fact]
    public async Task VerifyEmailCode_TenMembersVerifyingOneAddressAtOnce_ExactlyOneWins_TheOthersAreEmailExists()
    {
        await using var node = await fixture.StartNodeWithAsync(new Dictionary<string, string?>
        {
            ["Pan:Email:Limits:CooldownSeconds"] = "0",
            ["Pan:Email:Limits:PerTargetPerHour"] = "1000",
        });
        var client = new MemberServiceV2.MemberServiceV2Client(node.Grpc);
        var members = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => mail.RegisterAsync()));
        var address = Mailboxes.NewAddress();
        foreach (var member in members)
        {
            await mail.SetEmailAsync(member, address, client: client);
        }

        var codes = new List<string>();
        for (var n = 1; n <= members.Length; n++)
        {
            codes.Add(SmtpInbox.CodeOf(await mail.MailAsync(address, n)));
        }

        var results = await Task.WhenAll(codes.Select(code => PhoneFlows.Phones.StatusOf(() =>
            client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = code }).ResponseAsync)));

        Assert.Equal(1, results.Count(r => r == StatusCode.OK));
        Assert.Equal(9, results.Count(r => r == StatusCode.AlreadyExists));
        var key = address.ToLowerInvariant();
        Assert.Equal(1, await mail.DbAsync(db => db.Members.CountAsync(m => m.EmailKey == key && m.EmailVerified)));
        Assert.Equal(10, await mail.DbAsync(db => db.Members.CountAsync(m => m.EmailKey == key)));
    }

    [SeamFact]
    public async Task EmailSignIn_ByAnAddressASquatterAlsoHolds_ReachesTheVerifiedOwner()
    {
        var (squatter, address) = await SquatAsync();
        var squattersPassword = Mailboxes.StrongPassword();
        await mail.SetCredentialsAsync(squatter.Uid, squattersPassword);
        var owner = await mail.RegisterAsync();
        await ClaimAsync(owner, address);
        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(address, 2)) });
        var password = Mailboxes.StrongPassword();
        await mail.SetCredentialsAsync(owner.Uid, password);

        var start = await Client.LoginAsync(Start(LoginType.Email, address));
        await Errors.ExpectAsync(() => Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, squattersPassword)).ResponseAsync,
            StatusCode.InvalidArgument, "ErrLogin.CODE_INVALID");
        await mail.ClearFailuresAsync(owner.Uid);
        var done = await Client.LoginAsync(Input(LoginType.Email, start.PhaseSessionToken, password));
        Assert.Equal(owner.Uid, await UidOfAsync(done));

        var otc = await Client.LoginAsync(Start(LoginType.EmailOtc, address));
        var code = SmtpInbox.CodeOf(await mail.MailAsync(address, 3));
        Assert.Equal(owner.Uid, await UidOfAsync(await Client.LoginAsync(Input(LoginType.EmailOtc, otc.PhaseSessionToken, code))));
    }

    [SeamFact]
    public async Task EmailSignIn_ByAnAddressNobodyVerified_IsNotFound_EvenForTwoHolders()
    {
        var (first, address) = await SquatAsync();
        await mail.SetCredentialsAsync(first.Uid, Mailboxes.StrongPassword());
        var second = await mail.RegisterAsync();
        await ClaimAsync(second, address);

        foreach (var type in new[] { LoginType.Email, LoginType.EmailOtc })
        {
            await Errors.ExpectAsync(() => Client.LoginAsync(Start(type, address)).ResponseAsync, StatusCode.NotFound, "ErrLogin.NOT_FOUND");
        }
    }

    [Fact]
    public async Task ResetByEmail_OfAnAddressASquatterAlsoHolds_ReachesOnlyTheVerifiedOwner()
    {
        var (squatter, address) = await SquatAsync();
        var owner = await mail.RegisterAsync();
        await ClaimAsync(owner, address);
        await Client.VerifyEmailCodeAsync(new VerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(address, 2)) });

        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = squatter.Name, Email = address });
        Assert.Equal(2, mail.Count(address));

        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        await Client.AuthResetVerifyEmailAsync(new AuthResetVerifyEmailRequest { DisplayName = owner.Name, Email = address });
        var reset = await Client.AuthResetVerifyEmailCodeAsync(new AuthResetVerifyEmailCodeRequest { Code = SmtpInbox.CodeOf(await mail.MailAsync(address, 3)) });
        Assert.False(string.IsNullOrEmpty(reset.AuthResetToken));
    }

    /// <summary>A member who sets a fresh address and never verifies it.</summary>
    private async Task<(TestMember Squatter, string Address)> SquatAsync()
    {
        var squatter = await mail.RegisterAsync();
        var address = Mailboxes.NewAddress();
        await mail.SetEmailAsync(squatter, address);
        return (squatter, address);
    }

    /// <summary>Sets <paramref name="address"/> on <paramref name="member"/> past the per-address cool-down of the previous mail.</summary>
    private async Task ClaimAsync(TestMember member, string address)
    {
        fixture.Server.Clock.Advance(TimeSpan.FromSeconds(61));
        await mail.SetEmailAsync(member, address);
    }

    private async Task<long> UidOfAsync(LoginResponse done)
    {
        Assert.Equal(LoginPhase.Done, done.NextPhase);
        var access = await mail.Phones.AccessTokenAsync(done.PhaseDoneAuthToken);
        return (await Client.ValidateAccessTokenAsync(new ValidateAccessTokenRequest { AccessToken = access })).Info.Uid;
    }

    private static LoginRequest Start(LoginType type, string value) =>
        new() { Phase = LoginPhase.CheckExistence, LoginType = type, PhaseCheckExistenceValue = value };

    private static LoginRequest Input(LoginType type, string session, string value) =>
        new() { Phase = LoginPhase.InputCode, LoginType = type, PhaseSessionToken = session, PhaseInputCodeValue = value };
}

public sealed class EmailSquattingBehaviour_Sqlite(SqliteEmailFixture f) : EmailSquattingBehaviour<SqliteEmailFixture>(f);

public sealed class EmailSquattingBehaviour_Postgres(PostgresEmailFixture f) : EmailSquattingBehaviour<PostgresEmailFixture>(f);
