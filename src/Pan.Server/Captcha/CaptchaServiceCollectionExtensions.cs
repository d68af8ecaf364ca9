using Microsoft.Extensions.Options;
using Pan.Server.Metrics;

namespace Pan.Server.Captcha;

public static class CaptchaServiceCollectionExtensions
{
    /// <summary>Registers <see cref="CaptchaVerifier"/> as a typed HttpClient with the configured timeout, and validates <c>Pan:Captcha</c> at start-up.</summary>
    public static IServiceCollection AddPanCaptcha(this IServiceCollection services)
    {
        services.AddOptions<CaptchaOptions>().BindConfiguration(CaptchaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<CaptchaOptions>, CaptchaOptionsValidator>();
        services.AddPanMeter();
        services.AddHttpClient<CaptchaVerifier>((sp, client) =>
            client.Timeout = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<CaptchaOptions>>().Value.TimeoutSeconds));
        services.AddHostedService<CaptchaModeNotice>();
        return services;
    }

    /// <summary>Says at start-up when captcha is off outside Development, so an operator cannot miss it.</summary>
    private sealed class CaptchaModeNotice(IOptions<CaptchaOptions> options, IHostEnvironment environment, ILogger<CaptchaVerifier> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            if (options.Value.Mode == CaptchaMode.Off && !environment.IsDevelopment() && !environment.IsEnvironment("Testing"))
            {
                logger.LogWarning("Captcha is off (Pan:Captcha:Mode); sign-in and registration sessions and email_existed are not checked for bots");
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
