using Pan.Server.Members;

namespace Pan.Server.Session;

public static class SessionServiceCollectionExtensions
{
    /// <summary>Registers the member views (<see cref="ObjectMapper"/>, <see cref="PhoneIds"/>) and the session RPCs' queries.</summary>
    public static IServiceCollection AddPanSession(this IServiceCollection services)
    {
        services.AddOptions<MemberViewOptions>().BindConfiguration(MemberViewOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<PhoneIds>();
        services.AddSingleton<ObjectMapper>();
        services.AddScoped<MemberDirectory>();
        services.AddScoped<SignedInDevices>();
        services.AddSingleton<PublicMemberReader>();
        services.AddSingleton<PublicViewCache>();
        services.AddSingleton<LiveMemberCounts>();
        return services;
    }
}
