using Pan.Server.Deletion;

namespace Pan.Server.Guests;

public static class GuestServiceCollectionExtensions
{
    /// <summary>The apinode user endpoints (guest accounts). Settings: <c>Pan:Guests:*</c> (<see cref="GuestOptions"/>), validated at start-up.</summary>
    public static IServiceCollection AddPanGuests(this IServiceCollection services)
    {
        services.AddOptions<GuestOptions>().BindConfiguration(GuestOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<GuestApps>();
        services.AddScoped<AccountNames>();
        services.AddScoped<GuestDirectory>();
        services.AddScoped<GuestTokens>();
        services.AddScoped<GuestActivations>();
        services.AddScoped<GuestCreation>();
        services.AddScoped<GuestConversion>();
        services.AddScoped<GuestSignIn>();
        services.AddScoped<GuestNameLookups>();
        services.AddScoped<GuestDeletion>();
        services.AddScoped<IMemberDataEraser, GuestDataEraser>();
        services.AddHostedService<GuestJanitor>();
        return services;
    }

    public static IEndpointRouteBuilder MapPanGuests(this IEndpointRouteBuilder endpoints) => endpoints.MapGuestEndpoints();
}
