using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pan.Server.BruteForce;
using Pan.Server.Credentials;
using Pan.Server.Links;
using Pan.Server.Login;
using Pan.Server.Outbox;
using Pan.Server.Pages;
using Pan.Server.Recovery;

namespace Pan.Server.Email;

public static class EmailServiceCollectionExtensions
{
    /// <summary>
    /// Email delivery (SMTP or the Development console), links and redirect rules, email verification, password
    /// recovery by email and phone, email sign-in and the hosted account pages. Every setting is validated at start-up.
    /// </summary>
    public static IServiceCollection AddPanEmail(this IServiceCollection services)
    {
        services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.Section).ValidateOnStart();
        services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EmailLimitsOptions>().BindConfiguration(EmailLimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MailOutboxOptions>().BindConfiguration(MailOutboxOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MailOutboxOptions>>(new OutboxOptionsValidator<MailOutboxOptions>(MailOutboxOptions.Section));
        services.AddOptions<LinksOptions>().BindConfiguration(LinksOptions.Section).ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<EmailOptions>, EmailOptionsDefaults>();
        services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidator>();
        services.AddSingleton<IValidateOptions<LinksOptions>, LinksOptionsValidator>();

        services.AddSingleton<SmtpEmailTransport>();
        services.AddSingleton<ConsoleEmailTransport>();
        services.AddSingleton<IEmailTransport>(sp => sp.GetRequiredService<IOptions<EmailOptions>>().Value.Provider == EmailOptionsValidator.Console
            ? sp.GetRequiredService<ConsoleEmailTransport>()
            : sp.GetRequiredService<SmtpEmailTransport>());
        services.AddSingleton<Mailer>();
        services.AddSingleton<DeliveryGate>();
        services.AddSingleton<LinkBuilder>();
        services.AddHostedService<EmailJanitor>();
        services.AddSingleton<MailOutboxSignal>();
        services.AddSingleton<MailOutboxSender>();
        services.AddHostedService<MailOutboxWorker>();

        services.AddScoped<EmailCodes>();
        services.AddScoped<MailOutbox>();
        services.AddScoped<Deletion.IMemberDataEraser, EmailDataEraser>();
        services.AddScoped<EmailNotices>();
        services.AddScoped<EmailChanges>();
        services.AddScoped<EmailVerification>();
        services.AddScoped<MemberEmailUpdate>();
        services.AddScoped<EmailLoginFlow>();
        services.AddScoped<LoginCodeMailer>();

        services.AddScoped<RecoveryCaptcha>();
        services.AddScoped<RecoveryMembers>();
        services.AddScoped<ResetGrants>();
        services.AddScoped<ResetProofRevoker>();
        services.AddScoped<IPasswordChangeRevoker>(sp => sp.GetRequiredService<ResetProofRevoker>());
        services.AddScoped<ResetCompletion>();
        services.AddScoped<EmailRecovery>();
        services.AddScoped<PhoneRecovery>();
        services.AddScoped<ResetUpdate>();
        services.AddScoped<LinkReset>();

        // Merge: the credentials feature registers these seams itself; TryAdd keeps whichever registration comes first.
        services.TryAddScoped<CredentialStore>();
        services.TryAddScoped<PasswordPolicy>();
        services.TryAddScoped<FailureCounter>();

        services.AddPanAccountPages();
        return services;
    }
}
