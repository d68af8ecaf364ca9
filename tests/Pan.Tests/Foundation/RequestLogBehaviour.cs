using System.Net;
using Grpc.Core;
using Grpc.Net.Client.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Pan.General.Member;
using Pan.Server.Hosting;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>
/// Pan's access log (<see cref="RequestLog"/>): one line per request on every transport, naming the gRPC method or the
/// route template and the statuses, and never the path, the query string or anything a caller sent.
/// </summary>
public abstract class RequestLogBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : RequestLogFixture
{
    private const string ValidateName = "/pan.general.member.MemberServiceV2/ValidateDisplayNameV2";
    private const string Me = "/pan.general.member.MemberServiceV2/Me";

    private PanServer Server => fixture.Server;

    [Fact]
    public async Task NativeGrpcCall_LogsOneLine_WithTheMethodAndStatuses()
    {
        var name = "reqlog" + Guid.NewGuid().ToString("N")[..8];
        var before = fixture.Logs.Lines.Count;
        await new MemberServiceV2.MemberServiceV2Client(Server.Grpc).ValidateDisplayNameV2Async(new ValidateDisplayNameV2Request { DisplayName = name });

        var line = await OneLineAsync(before, ValidateName);
        AssertFields(line, "POST", ValidateName, "200", "HTTP/2");
        AssertGrpcStatus(line, StatusCode.OK);
        Assert.DoesNotContain(name, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GrpcWebMode.GrpcWebText, null)]
    [InlineData(GrpcWebMode.GrpcWeb, "/gapi")]
    public async Task GrpcWebCall_LogsOneLine_WithTheMethodAndStatuses(GrpcWebMode mode, string? prefix)
    {
        var name = "reqlog" + Guid.NewGuid().ToString("N")[..8];
        using var channel = Server.GrpcWeb(mode, prefix);
        var before = fixture.Logs.Lines.Count;
        await new MemberServiceV2.MemberServiceV2Client(channel).ValidateDisplayNameV2Async(new ValidateDisplayNameV2Request { DisplayName = name });

        var line = await OneLineAsync(before, ValidateName);
        AssertFields(line, "POST", ValidateName, "200", "HTTP/1.1");
        AssertGrpcStatus(line, StatusCode.OK);
        Assert.DoesNotContain(name, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonTranscodedCall_LogsOneLine_WithTheGrpcMethod()
    {
        var name = "reqlog" + Guid.NewGuid().ToString("N")[..8];
        var before = fixture.Logs.Lines.Count;
        using var response = await Server.Http.PostAsync("/v2/member/validate-display-name-v2", Json($"{{\"displayName\":\"{name}\"}}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var line = await OneLineAsync(before, ValidateName);
        AssertFields(line, "POST", ValidateName, "200", "HTTP/1.1");
        Assert.DoesNotContain(" GrpcStatus=", line, StringComparison.Ordinal);
        Assert.DoesNotContain(name, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedCall_LogsItsGrpcStatus_OnEveryTransport()
    {
        var token = "reqlog-bogus-token-" + Guid.NewGuid().ToString("N");
        var request = new MeRequest { AccessToken = token, AppId = "jkforum" };

        var before = fixture.Logs.Lines.Count;
        await Errors.ExpectAsync(
            () => new MemberServiceV2.MemberServiceV2Client(Server.Grpc).MeAsync(request).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
        var native = await OneLineAsync(before, Me);
        AssertFields(native, "POST", Me, "200", "HTTP/2");
        AssertGrpcStatus(native, StatusCode.Unauthenticated);

        using var channel = Server.GrpcWeb(GrpcWebMode.GrpcWebText, "/gapi");
        before = fixture.Logs.Lines.Count;
        await Errors.ExpectAsync(
            () => new MemberServiceV2.MemberServiceV2Client(channel).MeAsync(request).ResponseAsync, StatusCode.Unauthenticated, "ErrMe.TOKEN_INVALID");
        var web = await OneLineAsync(before, Me);
        AssertFields(web, "POST", Me, "200", "HTTP/1.1");
        AssertGrpcStatus(web, StatusCode.Unauthenticated);

        before = fixture.Logs.Lines.Count;
        using var response = await Server.Http.PostAsync("/v2/member/me", Json($"{{\"accessToken\":\"{token}\",\"appId\":\"jkforum\"}}"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var json = await OneLineAsync(before, Me);
        // Why no gRPC status: a JSON call's HTTP status is the mapped one (UNAUTHENTICATED is 401).
        AssertFields(json, "POST", Me, "401", "HTTP/1.1");

        AssertNowhere(token);
    }

    [Fact]
    public async Task GuestActivationPath_LogsTheTemplate_NotTheCodeOrThePhone()
    {
        const string Code = "Zq7Kx2Rm9Wp4";
        const string Phone = "886955123987";
        var before = fixture.Logs.Lines.Count;
        using var response = await Server.Http.GetAsync($"/admin/user/activate/{Code}@{Phone}");

        var line = await OneLineAsync(before, "/admin/user/activate/{actCode}");
        AssertFields(line, "GET", "/admin/user/activate/{actCode}", ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), "HTTP/1.1");
        AssertNowhere(Code, Phone, "955123987");
    }

    [Theory]
    [InlineData("/account/verify-email")]
    [InlineData("/account/reset-password")]
    public async Task LinkWithATokenInTheQuery_LogsTheTemplate_NotTheToken(string page)
    {
        var token = "reqlogToken" + Guid.NewGuid().ToString("N");
        var before = fixture.Logs.Lines.Count;
        using var response = await Server.Http.GetAsync($"{page}?token={token}&lang=en");

        var line = await OneLineAsync(before, page);
        AssertFields(line, "GET", page, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), "HTTP/1.1");
        Assert.DoesNotContain("lang=", line, StringComparison.Ordinal);
        AssertNowhere(token);
    }

    [Fact]
    public async Task UnknownPath_LogsThePlaceholder_NotThePath()
    {
        var secret = "reqlogPath" + Guid.NewGuid().ToString("N");
        var before = fixture.Logs.Lines.Count;
        using var response = await Server.Http.GetAsync($"/no/such/{secret}?q={secret}x");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        var line = await OneLineAsync(before, RequestLog.NoRoute);
        AssertFields(line, "GET", RequestLog.NoRoute, "404", "HTTP/1.1");
        AssertNowhere(secret, "/no/such");
    }

    [Fact]
    public async Task NonStandardMethod_IsNotLoggedAsSent()
    {
        var method = "REQLOG" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();
        var before = fixture.Logs.Lines.Count;
        using var response = await Server.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/no/such/page"));

        var line = await OneLineAsync(before, RequestLog.NoRoute);
        Assert.Contains(" Method=(other) ", line, StringComparison.Ordinal);
        AssertNowhere(method);
    }

    /// <summary>Waits for the access line of <paramref name="route"/> logged after line <paramref name="before"/>; there must be exactly one.</summary>
    private async Task<string> OneLineAsync(int before, string route)
    {
        List<string> Matching() => fixture.Logs.Lines.Skip(before)
            .Where(l => l.StartsWith(RequestLog.Category + " Information: ", StringComparison.Ordinal) && l.Contains($" Route={route} ", StringComparison.Ordinal))
            .ToList();

        // Why wait: the line is written when the pipeline returns, which can be after the client has read the response.
        await Eventually.HoldsAsync(() => Matching().Count > 0);
        return Assert.Single(Matching());
    }

    private static void AssertFields(string line, string method, string route, string status, string protocol)
    {
        foreach (var field in new[] { $"Method={method}", $"Route={route}", $"StatusCode={status}", $"Protocol={protocol}" })
        {
            Assert.True(line.Contains($" {field} ", StringComparison.Ordinal), $"no {field} in: {line}");
        }

        Assert.Matches(@" ElapsedMs=\d", line);
        Assert.Matches(@" TraceId=\S", line);
    }

    private static void AssertGrpcStatus(string line, StatusCode status) =>
        Assert.True(line.Contains($" GrpcStatus={status} ", StringComparison.Ordinal), $"not {status} in: {line}");

    private void AssertNowhere(params string[] values)
    {
        foreach (var value in values)
        {
            var found = fixture.Logs.Lines.Where(l => l.Contains(value, StringComparison.OrdinalIgnoreCase)).Take(2).ToList();
            Assert.True(found.Count == 0, $"[{value}] logged in:\n" + string.Join("\n", found));
        }
    }

    /// <summary>
    /// At start-up one Information line under <c>Pan.Startup</c> tells a newcomer what the server runs on: the database
    /// (SQLite: the file's full path; PostgreSQL: host, port and database, never the user or the password), the SMS
    /// provider (a webhook by its scheme, host and port only) and the email provider (an SMTP relay by host and port).
    /// </summary>
    [Fact]
    public void AtStartUp_OneLineNamesTheDatabaseAndTheSmsAndEmailProviders_WithoutSecrets()
    {
        var lines = fixture.Logs.Lines.Where(l => l.StartsWith(PanApp.StartupCategory + " Information", StringComparison.Ordinal)).ToList();

        var line = Assert.Single(lines);
        if (fixture.Database.Provider == "postgres")
        {
            var cs = new Npgsql.NpgsqlConnectionStringBuilder(fixture.Database.ConnectionString);
            Assert.Contains($"database postgres on {cs.Host}:{cs.Port}, database {cs.Database}", line, StringComparison.Ordinal);
            Assert.DoesNotContain("Username", line, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Password", line, StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            var file = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(fixture.Database.ConnectionString).DataSource;
            Assert.Contains($"database sqlite at {Path.GetFullPath(file)}", line, StringComparison.Ordinal);
        }

        Assert.Contains("SMS provider webhook (http://127.0.0.1:9)", line, StringComparison.Ordinal);
        Assert.Contains("email provider smtp (127.0.0.1:9)", line, StringComparison.Ordinal);
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
}

/// <summary>
/// A server whose every log line is captured, with the access log and the start-up line on (test servers log Warning
/// by default).
/// </summary>
public abstract class RequestLogFixture : ServerFixture
{
    public LogCapture Logs { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Logging:LogLevel:" + RequestLog.Category] = nameof(LogLevel.Information),
        ["Logging:LogLevel:" + PanApp.StartupCategory] = nameof(LogLevel.Information),
    };

    protected override void ConfigureServer(WebApplicationBuilder builder) => builder.Logging.AddProvider(Logs);
}

public sealed class SqliteRequestLogFixture : RequestLogFixture
{
    protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}

public sealed class PostgresRequestLogFixture : RequestLogFixture
{
    protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}

public sealed class RequestLogBehaviour_Sqlite(SqliteRequestLogFixture f) : RequestLogBehaviour<SqliteRequestLogFixture>(f);

public sealed class RequestLogBehaviour_Postgres(PostgresRequestLogFixture f) : RequestLogBehaviour<PostgresRequestLogFixture>(f);
