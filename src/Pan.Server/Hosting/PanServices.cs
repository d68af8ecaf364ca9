using Microsoft.Extensions.Options;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Pan.Server.Admin;
using Pan.Server.AppEvents;
using Pan.Server.Captcha;
using Pan.Server.Cors;
using Pan.Server.Credentials;
using Pan.Server.Data;
using Pan.Server.Email;
using Pan.Server.Errors;
using Pan.Server.Guests;
using Pan.Server.Health;
using Pan.Server.Keys;
using Pan.Server.Members;
using Pan.Server.Metrics;
using Pan.Server.Omniauth;
using Pan.Server.OAuth;
using Pan.Server.Passkeys;
using Pan.Server.Pages.SignIn;
using Pan.Server.PhaseSessions;
using Pan.Server.Sms;
using Pan.Server.Session;
using Pan.Server.Tokens;
using Pan.Server.Transport;

namespace Pan.Server.Hosting;

/// <summary>Registers everything the Pan host needs. Each feature adds itself through its own extension method.</summary>
public static class PanServices
{
    public static WebApplicationBuilder AddPanServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        // Why first: a setting's value its type cannot read is refused naming the setting, for every options class.
        services.AddSettingValueGuard();
        services.AddPanMetrics();

        services.AddOptions<KestrelEndpointUrls>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<KestrelEndpointUrls>, KestrelEndpointUrlsValidator>();
        services.AddOptions<TransportOptions>().BindConfiguration(TransportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HashidsOptions>().BindConfiguration(HashidsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<HashUids>();
        services.AddScoped<MemberCreator>();
        services.AddScoped<DisplayNames.DisplayNameDirectory>();
        services.AddPanTokens().AddPanCaptcha().AddPanSession();

        // Why before the database: its line names the database the migrations that follow are applied to.
        services.AddHostedService<StartupNotice>();
        services.AddPanDatabase(builder.Configuration);
        services.AddPanKeyEncryption();
        services.AddPanPhoneFlows();
        services.AddPanSms(builder.Configuration);
        services.AddPanCredentials();
        services.AddPanPasskeys();
        services.AddPanMemberExtras();
        services.AddPanEmail();
        services.AddPanAppsAndAdmin();
        services.AddPanAppEvents();
        services.AddPanOmniauth();
        services.AddPanGuests();
        services.AddPanSignInPages();
        services.AddPanOAuth();
        services.AddPanCors();

        services.AddGrpc(o =>
        {
            o.Interceptors.Add<ErrorInterceptor>();
            o.EnableDetailedErrors = false;
            // Why: no legitimate Pan request is large except an avatar upload (capped again by the avatar feature).
            o.MaxReceiveMessageSize = 8 * 1024 * 1024;
            // Why: gzip, grpc-dotnet's only default, refusing a message that does not decompress as bad input.
            o.CompressionProviders.Add(new GuardedDecompression(new Grpc.Net.Compression.GzipCompressionProvider(System.IO.Compression.CompressionLevel.Fastest)));
        }).AddJsonTranscoding(o =>
        {
            // Why: error details (ErrorInfo, BadRequest) are written into the HTTP/JSON error body as Any values.
            o.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromMessages(
                Google.Rpc.ErrorInfo.Descriptor, Google.Rpc.BadRequest.Descriptor, Google.Rpc.RetryInfo.Descriptor);
            // Why: the proto3 JSON mapping writes 64-bit integers as strings, and so does /openapi/v1.json's description
            // of them; as JSON numbers a JavaScript client rounds those above 2^53. Both forms are read either way.
            o.JsonSettings.WriteInt64sAsStrings = true;
        });
        services.AddPanReflection();

        // Why the cache: GuardedHealthService answers from it, as grpc-dotnet's health service does when it is on.
        services.AddGrpcHealthChecks(o => o.UseHealthChecksCache = true)
            .AddCheck<DatabaseHealthCheck>("database", failureStatus: HealthStatus.Unhealthy);
        // Why: the gRPC health service answers from the last published result (cheap, the bench's transport floor);
        // publish right away and then every 5 s so it reflects the database within seconds.
        services.Configure<HealthCheckPublisherOptions>(o =>
        {
            o.Delay = TimeSpan.Zero;
            o.Period = TimeSpan.FromSeconds(5);
        });

        return builder;
    }
}
