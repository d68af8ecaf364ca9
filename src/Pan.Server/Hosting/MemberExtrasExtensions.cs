using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pan.Server.AddressBooks;
using Pan.Server.Apps;
using Pan.Server.Audit;
using Pan.Server.Avatars;
using Pan.Server.Deletion;
using Pan.Server.Links;
using Pan.Server.Passport;

namespace Pan.Server.Hosting;

/// <summary>The member extras: address books, avatars, the membership card and QR code, deletion, the data export and the audit log.</summary>
public static class MemberExtrasExtensions
{
    public static IServiceCollection AddPanMemberExtras(this IServiceCollection services)
    {
        services.AddOptions<LinksOptions>().BindConfiguration(LinksOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AddressBookOptions>().BindConfiguration(AddressBookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AvatarOptions>().BindConfiguration(AvatarOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<PassportOptions>().BindConfiguration(PassportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Export.ExportOptions>().BindConfiguration(Export.ExportOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        services.AddScoped<AuditLog>();
        services.AddScoped<AddressBookStore>();
        services.AddSingleton<AvatarUrls>();
        services.AddSingleton<AvatarDecodeSlots>();
        services.AddSingleton<FileSystemAvatarStore>();
        services.AddSingleton<DatabaseAvatarStore>();
        services.AddSingleton<IAvatarStore>(sp => sp.GetRequiredService<IOptions<AvatarOptions>>().Value.Store == "filesystem"
            ? sp.GetRequiredService<FileSystemAvatarStore>()
            : sp.GetRequiredService<DatabaseAvatarStore>());
        services.AddScoped<AvatarService>();
        services.AddSingleton<AvatarJanitor>();
        services.AddHostedService(sp => sp.GetRequiredService<AvatarJanitor>());
        services.AddScoped<MemberPasses>();
        services.AddSingleton<PassJanitor>();
        services.AddHostedService(sp => sp.GetRequiredService<PassJanitor>());
        // Why: the apps feature registers the real registry; TryAdd keeps this seam resolvable without it and yields to it.
        services.TryAddScoped<AppRegistry>();
        services.AddScoped<IAppAuthenticator, AppRegistryAuthenticator>();

        services.AddScoped<IMemberDataEraser>(sp => sp.GetRequiredService<AddressBookStore>());
        services.AddScoped<IMemberDataEraser>(sp => sp.GetRequiredService<MemberPasses>());
        services.AddScoped<Tokens.ILogoutRevoker>(sp => sp.GetRequiredService<MemberPasses>());
        services.AddScoped<MemberDeletion>();
        services.AddScoped<Export.ExportDocument>();
        services.AddScoped<Export.DataExport>();
        return services;
    }

    public static IEndpointRouteBuilder MapPanMemberExtras(this IEndpointRouteBuilder endpoints) => endpoints.MapAvatarFiles();
}
