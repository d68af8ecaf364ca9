using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pan.Server.Apps;
using Pan.Server.Audit;
using Pan.Server.Cli.Import;
using Pan.Server.Credentials;
using Pan.Server.HandOff;

namespace Pan.Server.Admin;

public static class AdminServiceCollectionExtensions
{
    /// <summary>
    /// The app registry, the cross-app hand-off, the admin API, the audit log and the operator's member import.
    /// Call after <c>AddPanDatabase</c>: the app seeder runs after the migrator.
    /// </summary>
    public static IServiceCollection AddPanAppsAndAdmin(this IServiceCollection services)
    {
        services.AddScoped<AuditLog>();

        services.AddScoped<AppRegistry>();
        services.AddScoped<AppAdministration>();
        services.AddHostedService<AppSeeder>();

        services.AddOptions<HandOffOptions>().BindConfiguration(HandOffOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<LoginTokens>();
        services.AddScoped<Deletion.IMemberDataEraser, LoginTokenEraser>();

        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHttpClient<GoogleTokenInfo>((sp, client) =>
                client.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<AdminOptions>>().Value.Google.TimeoutSeconds))
            // Why: the access token is in the query string (Google's protocol); no request line may reach the logs.
            .RemoveAllLoggers();
        services.AddScoped<AdminDirectory>();
        services.AddScoped<GoogleAdminSignIn>();
        services.AddScoped<AdminActions>();
        services.AddScoped<MemberMaintenance>();
        services.AddScoped<Suspension.MemberSuspensions>();
        services.AddScoped<PhoneBlocks.PhoneBlocks>();
        services.AddHostedService<AdminJanitor>();

        // Why TryAdd: these are the credentials feature's seams; its own registrations (added later) take precedence.
        services.TryAddSingleton<PasswordPolicy>();
        services.TryAddScoped<CredentialStore>();

        services.AddSingleton<LegacyRowValidator>();
        services.AddScoped<ImportBatchWriter>();
        services.AddScoped<MemberImporter>();
        return services;
    }
}
