using System.Net;
using System.Text;
using System.Text.Json;
using Pan.Tests.OAuth;

namespace Pan.Tests.Foundation;

/// <summary>
/// SECURITY 17 for form posts: a body ASP.NET Core's form reader refuses (a value with NUL, a multipart body without a
/// boundary or with a malformed part) is a 400 at the OAuth provider's endpoints (RFC 6749 <c>invalid_request</c>) and
/// at the hosted pages, never a 500 from OpenIddict, antiforgery or a page reading it.
/// </summary>
public abstract class FormBodyBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : OAuthFixture
{
    [Theory]
    [InlineData("application/x-www-form-urlencoded", "client_id=app&code=a%00b")] // a value with NUL
    [InlineData("multipart/form-data", "client_id=app")] // no boundary
    [InlineData("multipart/form-data; boundary=b", "--b\r\nnot a header\r\n\r\nx\r\n--b--\r\n")]
    public async Task ProviderEndpoints_WithAnUnreadableForm_AreInvalidRequest(string contentType, string body)
    {
        foreach (var path in new[] { "/connect/token", "/connect/authorize", "/connect/revoke", "/connect/introspect", "/connect/userinfo", "/connect/endsession" })
        {
            using var response = await PostAsync(path, contentType, body);
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

            Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (response.StatusCode, json.GetProperty("error").GetString()));
        }
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "client_id=app&code=a%00b")] // a value with NUL
    [InlineData("multipart/form-data", "client_id=app")] // no boundary
    [InlineData("multipart/form-data; boundary=b", "--b\r\nnot a header\r\n\r\nx\r\n--b--\r\n")]
    public async Task Pages_WithAnUnreadableForm_Are400(string contentType, string body)
    {
        foreach (var path in new[]
        {
            "/account/sign-in", "/account/sign-in-code", "/account/sign-in-member", "/account/sign-in-email", "/account/sign-out",
            "/account/reset-password", "/account/consent", "/account/apps",
        })
        {
            using var response = await PostAsync(path, contentType, body);

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    private async Task<HttpResponseMessage> PostAsync(string path, string contentType, string body)
    {
        var content = new ByteArrayContent(Encoding.ASCII.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return await fixture.Server.Http.PostAsync(path, content);
    }
}

public sealed class FormBodyBehaviour_Sqlite(SqliteOAuthFixture f) : FormBodyBehaviour<SqliteOAuthFixture>(f);

public sealed class FormBodyBehaviour_Postgres(PostgresOAuthFixture f) : FormBodyBehaviour<PostgresOAuthFixture>(f);
