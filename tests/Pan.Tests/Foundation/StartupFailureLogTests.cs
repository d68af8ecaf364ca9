using Microsoft.Extensions.Logging;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>
/// A server that cannot start says why in its log, once, at Error, whatever stopped it (a setting checked at start-up,
/// a setting read while the endpoints are mapped, a database that cannot be reached), and never with the connection
/// string. Why: ASP.NET Core's own start-up error line is in a category Pan holds off (LogSecrecy).
/// </summary>
public sealed class StartupFailureLogTests
{
    private const string Password = "pg-startup-secret-4b1e7d";

    [Theory]
    [InlineData("Pan:Codes:CodeMinutes", "99", "Pan:Codes:CodeMinutes must be 1–10")]
    [InlineData("Pan:Guests:BasePath", "no-slash/", "Pan:Guests:BasePath must be empty or like /apinode")]
    [InlineData("Kestrel:Endpoints:Http:Url", "notaurl", "Kestrel:Endpoints:Http:Url must be an http:// or https:// address")]
    [InlineData("Kestrel:Endpoints:Grpc:Url", "ftp://127.0.0.1:0", "Kestrel:Endpoints:Grpc:Url must be an http:// or https:// address")]
    [InlineData("Kestrel:Endpoints:Http:Url", "http://127.0.0.1:0/pan", "Kestrel:Endpoints:Http:Url must be an http:// or https:// address")]
    public async Task BadSetting_StopsTheServer_WithOneErrorLineNamingIt(string key, string value, string expected)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pan-startup-log-{Guid.NewGuid():N}.db");
        var logs = new LogCapture();
        await StartupProbe.FailureAsync(() => StartupProbe.Build(
            "Production", StartupProbe.Production($"Data Source={path}"), new Dictionary<string, string?> { [key] = value },
            builder => builder.Logging.AddProvider(logs)));

        AssertReportedOnce(logs, expected);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("   at ", StringComparison.Ordinal));
    }

    /// <summary>
    /// A key under Pan: that no setting has (a misspelling) stops the server with one Error line naming it and, when one
    /// is near, the setting meant; without a stack trace. Before, it was ignored, and the operator believed it set.
    /// </summary>
    [Theory]
    [InlineData("Pan:Sms:Provder", "webhook", "Pan:Sms:Provder is not a setting of Pan (did you mean Pan:Sms:Provider?).")]
    [InlineData("Pan:Tokens:AccesTokenHours", "5", "Pan:Tokens:AccesTokenHours is not a setting of Pan (did you mean Pan:Tokens:AccessTokenHours?).")]
    [InlineData("Pan:Sms:Limits:PerPhonePerHr", "5", "Pan:Sms:Limits:PerPhonePerHr is not a setting of Pan (did you mean Pan:Sms:Limits:PerPhonePerHour?).")]
    [InlineData("Pan:Omniauth:Twitter:Apps:ios:ConsumerKy", "k", "Pan:Omniauth:Twitter:Apps:ios:ConsumerKy is not a setting of Pan (did you mean Pan:Omniauth:Twitter:Apps:<name>:ConsumerKey?).")]
    [InlineData("Pan:Frobnicate:Level", "3", "Pan:Frobnicate:Level is not a setting of Pan.")]
    [InlineData("Pan:Sms:Limits", "5", "Pan:Sms:Limits is not a setting of Pan.")]
    public async Task UnknownSetting_StopsTheServer_WithOneErrorLineNamingIt(string key, string value, string expected)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pan-startup-log-{Guid.NewGuid():N}.db");
        var logs = new LogCapture();
        var failure = await StartupProbe.FailureAsync(() => StartupProbe.Build(
            "Production", StartupProbe.Production($"Data Source={path}"), new Dictionary<string, string?> { [key] = value },
            builder => builder.Logging.AddProvider(logs)));

        Assert.Contains(expected, failure, StringComparison.Ordinal);
        AssertReportedOnce(logs, expected);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("   at ", StringComparison.Ordinal));
    }

    /// <summary>
    /// Keys every options class binds in every shape start a server: a list's entries, a dictionary's entries and
    /// their properties, a section bound by two classes, a section under another's.
    /// </summary>
    [Fact]
    public async Task KnownSettingsOfEveryShape_StartTheServer()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pan-startup-log-{Guid.NewGuid():N}.db");
        var app = StartupProbe.Build("Production", StartupProbe.Production($"Data Source={path}"), new Dictionary<string, string?>
        {
            ["Pan:Cors:AllowedOrigins:0"] = "https://forum.example",
            ["pan:sms:allowedcountries:0"] = "886",
            ["Pan:Omniauth:Twitter:Apps:com.example.ios:ConsumerKey"] = "key",
            ["Pan:Omniauth:Twitter:Apps:com.example.ios:ConsumerSecret"] = "secret",
            ["Pan:Members:MaxPerPhone"] = "5",
            ["Pan:Members:PublicViewCacheSeconds"] = "30",
            ["Pan:Sms:Limits:PerPhonePerHour"] = "5",
            ["Pan:Sms:Outbox:PollMilliseconds"] = "5000",
        });
        await using (app)
        {
            await app.StartAsync();
            await app.StopAsync();
        }
    }

    /// <summary>
    /// The server command (no command) with a key no setting has ends with exit code 1, as with any refused setting.
    /// </summary>
    [Fact]
    public async Task TheServerCommand_WithAnUnknownSetting_ExitsWithOne()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pan-startup-log-{Guid.NewGuid():N}.db");
        var settings = StartupProbe.Production($"Data Source={path}");
        settings["Pan:Sms:Provder"] = "webhook";
        // Why ports of the system's choosing and a bound on the wait: were the key taken, the server would start and
        // serve until stopped; the test then fails after the bound (not a timing assertion: a guard against a hang).
        settings["Kestrel:Endpoints:Http:Url"] = "http://127.0.0.1:0";
        settings["Kestrel:Endpoints:Grpc:Url"] = "http://127.0.0.1:0";
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await Pan.Server.Hosting.PanCommandLine.RunAsync(
            ["--environment=Production", .. settings.Select(s => $"--{s.Key}={s.Value}")], output, error).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(1, code);
    }

    /// <summary>
    /// A value that cannot be read as its setting's type, checked at start-up or read while the endpoints are mapped
    /// (Pan:Guests:TempTokenDays): one Error line names the setting and what it must be, without the value (a secret
    /// pasted under the wrong key) and without a stack trace.
    /// </summary>
    [Theory]
    [InlineData("Pan:Database:SqliteSynchronous", "Pan:Database:SqliteSynchronous must be one of: Full, Normal.")]
    [InlineData("Pan:Sms:Webhook:TimeoutSeconds", "Pan:Sms:Webhook:TimeoutSeconds must be a whole number.")]
    [InlineData("Pan:OAuth:AllowHttpOnLoopback", "Pan:OAuth:AllowHttpOnLoopback must be true or false.")]
    [InlineData("Pan:Omniauth:TimeoutSeconds", "Pan:Omniauth:TimeoutSeconds must be a number")]
    [InlineData("Pan:Guests:TempTokenDays", "Pan:Guests:TempTokenDays must be a whole number.")]
    public async Task ValueNotOfItsSettingsType_StopsTheServer_WithOneErrorLineNamingIt_WithoutTheValueOrAStackTrace(string key, string expected)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pan-startup-log-{Guid.NewGuid():N}.db");
        var logs = new LogCapture();
        var failure = await StartupProbe.FailureAsync(() => StartupProbe.Build(
            "Production", StartupProbe.Production($"Data Source={path}"), new Dictionary<string, string?> { [key] = NotAValue },
            builder => builder.Logging.AddProvider(logs)));

        AssertReportedOnce(logs, expected);
        Assert.Contains(expected, failure, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Lines, l => l.Contains(NotAValue, StringComparison.Ordinal) || l.Contains("   at ", StringComparison.Ordinal));
    }

    /// <summary>
    /// The server command (no command) with a refused setting ends with exit code 1 once the failure is logged, not
    /// with an unhandled exception (which the runtime prints again, stack trace and all, and which aborts the process).
    /// </summary>
    [Theory]
    [InlineData("Pan:Sms:Webhook:TimeoutSeconds", NotAValue)]
    [InlineData("Pan:Codes:CodeMinutes", "99")]
    public async Task TheServerCommand_WithARefusedSetting_ExitsWithOne(string key, string value)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pan-startup-log-{Guid.NewGuid():N}.db");
        var settings = StartupProbe.Production($"Data Source={path}");
        settings[key] = value;
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await Pan.Server.Hosting.PanCommandLine.RunAsync(
            ["--environment=Production", .. settings.Select(s => $"--{s.Key}={s.Value}")], output, error);

        Assert.Equal(1, code);
    }

    /// <summary>
    /// Any other failure to start that the host has logged (a port another process holds, a database that cannot be
    /// reached) ends the server command with exit code 1 too. Before, it escaped as an unhandled exception: printed a
    /// second time with its stack trace, and the runtime aborted the process (exit code 134).
    /// </summary>
    [Theory]
    [InlineData("port in use")]
    [InlineData("unreachable database")]
    public async Task TheServerCommand_ThatCannotStart_ExitsWithOne(string cause)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pan-startup-log-{Guid.NewGuid():N}.db");
        var settings = StartupProbe.Production($"Data Source={path}");
        using var busy = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        busy.Start();
        if (cause == "port in use")
        {
            settings["Kestrel:Endpoints:Http:Url"] = $"http://127.0.0.1:{((System.Net.IPEndPoint)busy.LocalEndpoint).Port}";
        }
        else
        {
            settings["Pan:Database:Provider"] = "postgres";
            settings["ConnectionStrings:Pan"] = $"Host=127.0.0.1;Port=9;Username=pan;Password={Password};Database=pan;Timeout=3";
        }

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await Pan.Server.Hosting.PanCommandLine.RunAsync(
            ["--environment=Production", .. settings.Select(s => $"--{s.Key}={s.Value}")], output, error);

        Assert.Equal(1, code);
    }

    private const string NotAValue = "sk-pasted-secret-7c41e9";

    [Fact]
    public async Task UnreachableDatabase_StopsTheServer_WithOneErrorLine_WithoutThePassword()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Pan:Database:Provider"] = "postgres",
            // Why port 9 (discard): nothing listens there, so the connection is refused at once.
            ["ConnectionStrings:Pan"] = $"Host=127.0.0.1;Port=9;Username=pan;Password={Password};Database=pan;Timeout=3",
        };
        var logs = new LogCapture();
        await StartupProbe.FailureAsync(() => StartupProbe.Build(
            "Production", StartupProbe.Production("Data Source=unused.db"), settings, builder => builder.Logging.AddProvider(logs)));

        AssertReportedOnce(logs, "Failed to connect to 127.0.0.1:9");
        Assert.DoesNotContain(logs.Lines, l => l.Contains(Password, StringComparison.Ordinal));
    }

    /// <summary>
    /// A PostgreSQL connection string that asks Npgsql for its error details (<c>Include Error Detail=true</c>, in any of
    /// its spellings) is refused at start-up, naming the keyword and without the password: with it, a unique violation's
    /// message carries the values that collided (a phone number, an email, a name) into exception messages and the logs.
    /// </summary>
    [Theory]
    [InlineData("Include Error Detail=true")]
    [InlineData("IncludeErrorDetail=True")]
    [InlineData("include error detail = true")]
    public async Task PostgresConnectionString_IncludingErrorDetail_StopsTheServer_WithOneErrorLineNamingTheKeyword(string setting)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Pan:Database:Provider"] = "postgres",
            // Why port 9 (discard): were the setting taken, the start would fail on the connection instead.
            ["ConnectionStrings:Pan"] = $"Host=127.0.0.1;Port=9;Username=pan;Password={Password};Database=pan;Timeout=3;{setting}",
        };
        var logs = new LogCapture();
        var failure = await StartupProbe.FailureAsync(() => StartupProbe.Build(
            "Production", StartupProbe.Production("Data Source=unused.db"), settings, builder => builder.Logging.AddProvider(logs)));

        const string Expected = "ConnectionStrings:Pan sets Include Error Detail";
        Assert.Contains(Expected, failure, StringComparison.Ordinal);
        AssertReportedOnce(logs, Expected);
        Assert.DoesNotContain(logs.Lines, l => l.Contains(Password, StringComparison.Ordinal) || l.Contains("   at ", StringComparison.Ordinal));
    }

    /// <summary>Exactly one Error line holds the failure (EF Core may add its own line about the connection; it is not the failure).</summary>
    private static void AssertReportedOnce(LogCapture logs, string failure)
    {
        var lines = logs.Lines.Where(l => l.Contains(failure, StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, $"{lines.Count} lines report [{failure}]:\n" + string.Join("\n", lines));
        Assert.Contains(" Error: ", lines[0], StringComparison.Ordinal);
    }
}
