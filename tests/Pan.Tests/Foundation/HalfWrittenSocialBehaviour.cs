using Microsoft.EntityFrameworkCore;
using Pan.Data.Omniauth;
using Pan.Data.Tokens;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;
using Pan.Tests.Omniauth;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 21 for a social sign-in that creates a member (through_omniauth): its last write is made to fail
/// (<see cref="FailureTriggers"/>) and nothing of the earlier writes may be left; once the trigger is gone the same
/// provider user signs in and gets exactly one member.
/// </summary>
public abstract class HalfWrittenSocialBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OmniauthFixture
{
    [Fact]
    public async Task ThroughOmniauth_WhenStoringTheRefreshTokenFails_CreatesNoMemberNorIdentity_AndTheUserThenSignsIn()
    {
        var user = SocialUsers.New();
        var key = user.Email!.ToLowerInvariant();
        var sessions = await DbAsync(db => db.Set<AuthSession>().CountAsync());

        // The last write of a first sign-in: the refresh token's row, saved with the access token (after the account, the
        // member, its hash_uid, the provider identity and the auth session).
        await using (await FailureTriggers.FailAsync(fixture.Server, fixture.Database, "omniauth_refresh_tokens", TriggeredWrite.Insert))
        {
            var (status, body, _) = await SignInAsync(user);
            Assert.Equal((500, 500, "Internal error"), (status, body.GetProperty("code").GetInt32(), body.GetProperty("message").GetString()));
        }

        Assert.False(await DbAsync(db => db.Members.AnyAsync(m => m.EmailKey == key)));
        Assert.False(await DbAsync(db => db.Set<SocialIdentity>().AnyAsync(i => i.ProviderUserId == user.Id)));
        Assert.Equal(sessions, await DbAsync(db => db.Set<AuthSession>().CountAsync()));

        var (okStatus, ok, _) = await SignInAsync(user);
        Assert.Equal(200, okStatus);
        Assert.Equal(user.Email, ok.GetProperty("data").GetProperty("email").GetString());
        Assert.Equal(1, await DbAsync(db => db.Members.CountAsync(m => m.EmailKey == key)));
        Assert.Equal(1, await DbAsync(db => db.Set<SocialIdentity>().CountAsync(i => i.ProviderUserId == user.Id)));
    }

    private Task<(int Status, System.Text.Json.JsonElement Body, HttpResponseMessage Response)> SignInAsync(SocialUser user)
    {
        var login = fixture.Providers.SignIn("google_oauth2", user);
        return OmniauthFixture.PostAsync(fixture.Server, "through_omniauth", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = fixture.Secret,
            ["provider"] = login.Provider,
            ["omniauth_token"] = login.Token,
        });
    }

    private Task<T> DbAsync<T>(Func<Pan.Data.PanDbContext, Task<T>> query) => TestMembers.WithDbAsync(fixture.Server, query);
}

public sealed class HalfWrittenSocialBehaviour_Sqlite(SqliteOmniauthFixture f) : HalfWrittenSocialBehaviour<SqliteOmniauthFixture>(f);

public sealed class HalfWrittenSocialBehaviour_Postgres(PostgresOmniauthFixture f) : HalfWrittenSocialBehaviour<PostgresOmniauthFixture>(f);
