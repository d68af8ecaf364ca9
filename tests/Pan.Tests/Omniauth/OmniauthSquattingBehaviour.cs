using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pan.Server.Credentials;
using Pan.Tests.Infrastructure;
using Pan.Tests.Members;

namespace Pan.Tests.Omniauth;

/// <summary>
/// email_existed and through_omniauth with addresses held unverified: an unverified address is nobody's, so it neither
/// "exists" nor makes a provider user sign in with a squatter's password.
/// </summary>
public abstract class OmniauthSquattingBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OmniauthFixture
{
    private PanServer Server => fixture.Server;

    [Fact]
    public async Task EmailExisted_ForAnAddressHeldOnlyUnverified_IsFalse_AndTrueOnceAMemberVerifiedIt()
    {
        var email = $"held{Guid.NewGuid():N}@example.com";
        var first = await HolderAsync(email, verified: false);
        await HolderAsync(email, verified: false);

        Assert.False(await EmailExistedAsync(email.ToUpperInvariant()));

        await TestMembers.UpdateAsync(Server, first.Uid, m => m.EmailVerified = true);
        Assert.True(await EmailExistedAsync(email.ToUpperInvariant()));
    }

    [Fact]
    public async Task ThroughOmniauth_WithAnAddressASquatterHoldsUnverified_CreatesTheUsersOwnMember_WithTheAddressVerified()
    {
        var email = $"victim{Guid.NewGuid():N}@example.com";
        var squatter = await HolderAsync(email, verified: false);
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<CredentialStore>().SetFirstPasswordAsync(squatter.Uid, "correct horse battery staple 42", default));
        }

        var answer = await OmniauthFixture.PostAsync(Server, "through_omniauth", Fields(fixture.Providers.SignIn("google_oauth2", SocialUsers.New(email))));

        Assert.True(answer.Status == 200, $"unexpected {answer.Status} {answer.Body}");
        var data = answer.Body.GetProperty("data");
        Assert.NotEqual(squatter.ObjectId.ToString("D"), data.GetProperty("uuid").GetString());
        Assert.True(data.GetProperty("confirmed").GetBoolean());
        Assert.True(await EmailExistedAsync(email));
    }

    [Fact]
    public async Task ThroughOmniauth_WithAnAddressAMemberVerified_StillNeedsThatMembersPassword()
    {
        var email = $"owner{Guid.NewGuid():N}@example.com";
        await HolderAsync(email, verified: false);
        await HolderAsync(email, verified: true);

        var answer = await OmniauthFixture.PostAsync(Server, "through_omniauth", Fields(fixture.Providers.SignIn("linkedin", SocialUsers.New(email))));

        Assert.Equal(409, answer.Status);
        Assert.Equal(4028, answer.Body.GetProperty("code").GetInt32());
    }

    private Task<Pan.Data.Members.Member> HolderAsync(string email, bool verified) => TestMembers.CreateAsync(Server, m =>
    {
        m.Email = email;
        m.EmailKey = email;
        m.EmailVerified = verified;
    });

    private Dictionary<string, string?> Fields(SocialLogin login) => fixture.SignInFields(login);

    private async Task<bool> EmailExistedAsync(string email)
    {
        var (status, body, _) = await OmniauthFixture.PostAsync(Server, "email_existed", new Dictionary<string, string?>
        {
            ["client_id"] = OmniauthFixture.Client,
            ["client_secret"] = fixture.Secret,
            ["email"] = email,
        });
        Assert.True(status == 200, $"unexpected {status} {body}");
        return body.GetProperty("data").GetBoolean();
    }
}

public sealed class OmniauthSquattingBehaviour_Sqlite(SqliteOmniauthFixture f) : OmniauthSquattingBehaviour<SqliteOmniauthFixture>(f);

public sealed class OmniauthSquattingBehaviour_Postgres(PostgresOmniauthFixture f) : OmniauthSquattingBehaviour<PostgresOmniauthFixture>(f);
