using Pan.Server.Accounts;
using Pan.Server.Login;
using Pan.Server.MemberProfiles;
using Pan.Server.Members;
using Pan.Server.Registration;
using Pan.Server.Verification;

namespace Pan.Server.PhaseSessions;

public static class PhoneFlowServices
{
    /// <summary>Phased flows (register, login, unlock, step-up) and member profiles under a phone.</summary>
    public static IServiceCollection AddPanPhoneFlows(this IServiceCollection services)
    {
        services.AddOptions<PhaseSessionOptions>().BindConfiguration(PhaseSessionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<MembersOptions>().BindConfiguration(MembersOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<AccountDirectory>();
        services.AddScoped<PhaseSessionStore>();
        services.AddScoped<PhoneCodeSender>();
        services.AddOptions<PhoneLookupOptions>().BindConfiguration(PhoneLookupOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<PhoneLookupLimit>();
        services.AddScoped<MemberSlots>();
        services.AddScoped<RegisterFlow>();
        services.AddScoped<LoginFlow>();
        services.AddScoped<LoginCodeStepReader>();
        services.AddScoped<UnlockSession>();
        services.AddScoped<PhoneStepUp>();
        services.AddScoped<MemberProfiles.MemberProfiles>();
        services.AddScoped<PhoneValidation.PhoneValidationFlow>();
        return services;
    }
}
