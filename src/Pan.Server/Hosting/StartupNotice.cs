using Microsoft.Extensions.Options;
using Pan.Server.Data;
using Pan.Server.Email;
using Pan.Server.Sms;

namespace Pan.Server.Hosting;

/// <summary>
/// Says at start-up, in one Information line under <see cref="PanApp.StartupCategory"/>, what the server runs on: the
/// database (SQLite: the file's full path; PostgreSQL: host, port and database), the SMS provider and the email
/// provider. Why: a newcomer's first question is which file holds the data and where the codes go. It never names a
/// user, a password, an Authorization header or a webhook URL's path or query (which may carry a key): a webhook is
/// named by its scheme, host and port, an SMTP relay by its host and port.
/// </summary>
internal sealed class StartupNotice(
    IConfiguration configuration,
    IOptions<DatabaseOptions> database,
    IOptions<SmsOptions> sms,
    IOptions<SmsWebhookOptions> webhook,
    IOptions<EmailOptions> email,
    IOptions<SmtpOptions> smtp,
    ILoggerFactory loggers) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        loggers.CreateLogger(PanApp.StartupCategory).LogInformation(
            "Pan uses: {Database}; SMS provider {SmsProvider}; email provider {EmailProvider}",
            DatabaseOf(DatabaseServiceCollectionExtensions.ConnectionString(configuration, database.Value.Provider), database.Value.IsPostgres),
            SmsProviderOf(sms.Value.Provider, webhook.Value.Url),
            EmailProviderOf(email.Value.Provider, smtp.Value));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static string DatabaseOf(string connectionString, bool postgres)
    {
        if (postgres)
        {
            var pg = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            return $"database postgres on {pg.Host}:{pg.Port}, database {(string.IsNullOrEmpty(pg.Database) ? "(the user's default)" : pg.Database)}";
        }

        var file = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString).DataSource;
        var inMemory = file.Length == 0 || file == ":memory:" || file.StartsWith("file:", StringComparison.OrdinalIgnoreCase);
        return $"database sqlite at {(inMemory ? file : Path.GetFullPath(file))}";
    }

    private static string SmsProviderOf(string? provider, string? url) => provider switch
    {
        ConsoleSmsProvider.Name => $"{provider} (codes are written to this log)",
        WebhookSmsProvider.Name when Uri.TryCreate(url, UriKind.Absolute, out var uri)
            => $"{provider} ({uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped)})",
        _ => provider ?? "(none)",
    };

    private static string EmailProviderOf(string? provider, SmtpOptions smtp) => provider switch
    {
        EmailOptionsValidator.Console => $"{provider} (mail, codes included, is written to this log)",
        EmailOptionsValidator.Smtp => $"{provider} ({smtp.Host}:{smtp.Port})",
        _ => provider ?? "(none)",
    };
}
