using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pan.Atom.Member;
using Pan.General.Member;
using Pan.Tests.Infrastructure;
using MigrationStatus = Pan.General.Member.MemberMigrationStatusResponse.Types.MigrationStatus;
using PanObject = Pan.Atom.Member.Object;

namespace Pan.Tests.Members;

/// <summary>Me, OtherMember, InitGender and MemberMigrationStatus: the signed-in member's own views.</summary>
public abstract class MemberRpcBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture
{
    private PanServer Server => fixture.Server;

    private MemberServiceV2.MemberServiceV2Client Grpc => new(Server.Grpc);

    [Fact]
    public async Task Me_ReturnsTheSelfView_WithEveryField()
    {
        var activated = new DateTimeOffset(2025, 6, 1, 8, 0, 0, TimeSpan.Zero);
        var vip = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var member = await TestMembers.CreateAsync(Server, m =>
        {
            m.Username = TestMembers.UniqueName("user");
            m.Email = TestMembers.UniqueName("mail") + "@example.com";
            m.EmailKey = m.Email;
            m.EmailVerified = true;
            m.Gender = 2;
            m.ActivateDate = activated;
            m.ActivateIp = "203.0.113.7";
            m.VipExpireDate = vip;
        });
        var access = await TestMembers.AccessTokenAsync(Server, member);

        var me = (await Grpc.MeAsync(new MeRequest { AccessToken = access, AppId = "jkforum" })).User;

        Assert.Equal(member.ObjectId.ToString("D"), me.ObjectId);
        Assert.Equal((member.Uid, member.Username, member.DisplayName, member.HashUid), (me.Uid, me.Username, me.DisplayName, me.HashUid));
        Assert.Equal(member.Account!.PhoneE164, me.Phone);
        Assert.False(string.IsNullOrEmpty(me.PhoneId));
        Assert.Equal((member.Email, true, 1L), (me.Email, me.EmailVerified, me.EmailStatus));
        Assert.Equal((true, "203.0.113.7"), (me.Activate, me.ActivateIp));
        Assert.Equal(activated, me.ActivateDate.ToDateTimeOffset());
        Assert.Equal(vip, me.VipExpireDate.ToDateTimeOffset());
        Assert.Equal(Gender.Female, me.Gender);
        Assert.True(me.IsOwner);
        Assert.True(me.CanNewChild);
        Assert.Equal(member.Created, me.Created.ToDateTimeOffset());
        Assert.Equal("", me.Avatar);
    }

    [Fact]
    public async Task Me_CanNewChild_IsFalseOnceThePhoneHoldsTheMaximum()
    {
        var owner = await TestMembers.CreateAsync(Server);
        for (var i = 1; i < 5; i++)
        {
            await TestMembers.AddToPhoneAsync(Server, owner);
        }

        var access = await TestMembers.AccessTokenAsync(Server, owner);

        Assert.False((await Grpc.MeAsync(new MeRequest { AccessToken = access })).User.CanNewChild);
    }

    [Fact]
    public async Task Me_CanNewChild_IsFalseForAMemberWithoutAPhone_AsNewMemberRefusesIt()
    {
        // An imported member (its account has no phone) alone under its account: NewMember answers FAILED_PRECONDITION
        // for its auth token, so the view must not offer a new member.
        Pan.Data.Members.Member imported;
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var name = TestMembers.UniqueName();
            imported = await scope.ServiceProvider.GetRequiredService<Pan.Server.Members.MemberCreator>().CreateAsync(
                new Pan.Data.Accounts.Account(), new Pan.Data.Members.Member { DisplayName = name, DisplayNameKey = name, IsOwner = true, MigrationStatus = 2 }, default);
        }

        var auth = await TestMembers.AuthTokenAsync(Server, imported);

        Assert.False((await Grpc.MeAsync(new MeRequest { AccessToken = await TestMembers.AccessTokenAsync(Server, auth, imported) })).User.CanNewChild);
        await Errors.ExpectAsync(
            () => Grpc.NewMemberAsync(new NewMemberRequest { AuthToken = auth, DisplayName = TestMembers.UniqueName() }).ResponseAsync,
            StatusCode.FailedPrecondition, "ErrNewMember.FAILED");
    }

    [Fact]
    public async Task Me_BadTokenOrAnotherAppsToken_IsTokenInvalid_AndUnknownAppIsInvalidArgument()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member, "jkforum");

        await Errors.ExpectAsync(() => Grpc.MeAsync(new MeRequest { AccessToken = "nope" }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
        await Errors.ExpectAsync(() => Grpc.MeAsync(new MeRequest { AccessToken = access, AppId = "shop24h" }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
        var ex = await Errors.ExpectAsync(() => Grpc.MeAsync(new MeRequest { AccessToken = access, AppId = "nosuchapp" }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("app_id", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task Me_MemberDeletedWithoutRevocation_IsNotFoundNotExists()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        await TestMembers.UpdateAsync(Server, member.Uid, m => m.Deleted = Server.Clock.GetUtcNow());

        var ex = await Errors.ExpectAsync(() => Grpc.MeAsync(new MeRequest { AccessToken = access }).ResponseAsync,
            StatusCode.NotFound, "MeResponse.Error__NotExists");
        Assert.Equal("1001", ex.Info().Metadata["code"]);
    }

    [Fact]
    public async Task Me_OverHttpJson()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);

        using var ok = await Server.Http.PostAsJsonAsync("/v2/member/me", new { accessToken = access, appId = "jkforum" });
        var user = (await ok.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("user");
        Assert.Equal(member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), user.GetProperty("uid").GetString());
        Assert.Equal(member.Account!.PhoneE164, user.GetProperty("phone").GetString());

        using var bad = await Server.Http.PostAsJsonAsync("/v2/member/me", new { accessToken = "nope" });
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Equal("ErrMe.TOKEN_INVALID", await JsonErrors.ReasonAsync(bad));
    }

    [Fact]
    public async Task OtherMember_ListsTheOtherLiveMembersOfThePhone_InTheSelfView()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var second = await TestMembers.AddToPhoneAsync(Server, owner, m => m.Email = "second@example.com");
        var third = await TestMembers.AddToPhoneAsync(Server, owner);
        var gone = await TestMembers.AddToPhoneAsync(Server, owner);
        await TestMembers.UpdateAsync(Server, gone.Uid, m => m.Deleted = Server.Clock.GetUtcNow());
        await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, second);

        var others = (await Grpc.OtherMemberAsync(new OtherMemberRequest { AccessToken = access })).Objects;

        Assert.Equal([owner.Uid, third.Uid], others.Select(o => o.Uid));
        Assert.All(others, o => Assert.Equal(owner.Account!.PhoneE164, o.Phone));
        Assert.Equal([true, false], others.Select(o => o.IsOwner));
        Assert.All(others, o => Assert.True(o.CanNewChild));
    }

    [Fact]
    public async Task OtherMember_Alone_IsEmpty_AndBadTokenIsTokenInvalid()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);

        Assert.Empty((await Grpc.OtherMemberAsync(new OtherMemberRequest { AccessToken = access })).Objects);
        await Errors.ExpectAsync(() => Grpc.OtherMemberAsync(new OtherMemberRequest { AccessToken = "nope" }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrOtherMember.TOKEN_INVALID");
    }

    [Fact]
    public async Task OtherMember_OverHttpJson()
    {
        var owner = await TestMembers.CreateAsync(Server);
        var sibling = await TestMembers.AddToPhoneAsync(Server, owner);
        var access = await TestMembers.AccessTokenAsync(Server, owner);

        using var ok = await Server.Http.PostAsJsonAsync("/v2/member/other-member", new { accessToken = access });
        var objects = (await ok.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("objects");
        Assert.Equal(sibling.ObjectId.ToString("D"), Assert.Single(objects.EnumerateArray()).GetProperty("objectId").GetString());
    }

    [Fact]
    public async Task InitGender_SetsItOnce_ThenIsFailedPrecondition()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);

        await Grpc.InitGenderAsync(new InitGenderRequest { AccessToken = access, Gender = Gender.Male });

        Assert.Equal(Gender.Male, (await Grpc.MeAsync(new MeRequest { AccessToken = access })).User.Gender);
        var ex = await Errors.ExpectAsync(() => Grpc.InitGenderAsync(new InitGenderRequest { AccessToken = access, Gender = Gender.Female }).ResponseAsync,
            StatusCode.FailedPrecondition, "ErrInitGender.GENERAL_FAILED");
        Assert.Equal("1002", ex.Info().Metadata["code"]);
        Assert.Equal(Gender.Male, (await Grpc.MeAsync(new MeRequest { AccessToken = access })).User.Gender);
    }

    [Fact]
    public async Task InitGender_TenConcurrentCalls_ExactlyOneWins()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);

        var calls = Enumerable.Range(0, 10).Select(async i =>
        {
            try
            {
                await Grpc.InitGenderAsync(new InitGenderRequest { AccessToken = access, Gender = i % 2 == 0 ? Gender.Male : Gender.Female });
                return true;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                return false;
            }
        });

        Assert.Equal(1, (await Task.WhenAll(calls)).Count(won => won));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(-1)]
    public async Task InitGender_NotMaleOrFemale_IsInvalidArgumentNamingGender(int gender)
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);

        var ex = await Errors.ExpectAsync(() => Grpc.InitGenderAsync(new InitGenderRequest { AccessToken = access, Gender = (Gender)gender }).ResponseAsync,
            StatusCode.InvalidArgument, "INVALID_ARGUMENT");
        Assert.Equal("gender", Assert.Single(ex.BadRequest()!.FieldViolations).Field);
    }

    [Fact]
    public async Task InitGender_BadToken_IsTokenInvalid_AlsoOverHttpJson()
    {
        await Errors.ExpectAsync(() => Grpc.InitGenderAsync(new InitGenderRequest { AccessToken = "nope", Gender = Gender.Male }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrInitGender.GENERAL_TOKEN_INVALID");

        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        using var ok = await Server.Http.PostAsJsonAsync("/v2/member/init-gender", new { accessToken = access, gender = "Female" });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var again = await Server.Http.PostAsJsonAsync("/v2/member/init-gender", new { accessToken = access, gender = "Male" });
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal("ErrInitGender.GENERAL_FAILED", await JsonErrors.ReasonAsync(again));
    }

    [Theory]
    [InlineData(0, MigrationStatus.StatusNewPan)]
    [InlineData(1, MigrationStatus.StatusNewPan)]
    [InlineData(2, MigrationStatus.StatusOldJkf)]
    [InlineData(3, MigrationStatus.StatusOld1128)]
    [InlineData(4, MigrationStatus.StatusReturnedUser)]
    [InlineData(5, MigrationStatus.StatusValidPan)]
    [InlineData(6, MigrationStatus.StatusVerifyPhone)]
    public async Task MemberMigrationStatus_ReadsTheStoredStatus(int stored, MigrationStatus expected)
    {
        var member = await TestMembers.CreateAsync(Server, m => m.MigrationStatus = stored);
        var access = await TestMembers.AccessTokenAsync(Server, member);

        Assert.Equal(expected, (await Grpc.MemberMigrationStatusAsync(new MemberMigrationStatusRequest { AccessToken = access })).Status);
    }

    [Fact]
    public async Task MemberMigrationStatus_BadTokenOrUnknownStoredValue_IsGeneralFailed()
    {
        await Errors.ExpectAsync(() => Grpc.MemberMigrationStatusAsync(new MemberMigrationStatusRequest { AccessToken = "nope" }).ResponseAsync,
            StatusCode.Unauthenticated, "ErrMemberMigrationStatus.GENERAL_FAILED");

        var member = await TestMembers.CreateAsync(Server, m => m.MigrationStatus = 99);
        var access = await TestMembers.AccessTokenAsync(Server, member);
        await Errors.ExpectAsync(() => Grpc.MemberMigrationStatusAsync(new MemberMigrationStatusRequest { AccessToken = access }).ResponseAsync,
            StatusCode.Internal, "ErrMemberMigrationStatus.GENERAL_FAILED");
    }

    [Fact]
    public async Task MemberMigrationStatus_OverHttpJson()
    {
        var member = await TestMembers.CreateAsync(Server);
        var access = await TestMembers.AccessTokenAsync(Server, member);

        using var ok = await Server.Http.PostAsJsonAsync("/v2/member/member-migration-status", new { accessToken = access });
        Assert.Equal("STATUS_NEW_PAN", (await ok.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    internal static void AssertPublicOnly(PanObject o)
    {
        Assert.Equal("", o.Phone);
        Assert.Equal("", o.PhoneId);
        Assert.Equal("", o.Email);
        Assert.Equal("", o.ActivateIp);
        Assert.False(o.CanNewChild);
        Assert.False(o.EmailVerified);
        Assert.Equal(0, o.EmailStatus);
    }
}

public sealed class MemberRpcBehaviour_Sqlite(SqliteServerFixture f) : MemberRpcBehaviour<SqliteServerFixture>(f);

public sealed class MemberRpcBehaviour_Postgres(PostgresServerFixture f) : MemberRpcBehaviour<PostgresServerFixture>(f);
