using Microsoft.EntityFrameworkCore;
using Pan.Data;
using Pan.Data.Guests;
using Pan.Server.Accounts;
using Pan.Server.Apps;
using Pan.Server.Members;

namespace Pan.Server.Guests;

/// <summary>What an account name of an app is.</summary>
public static class AccountNameTypes
{
    public const string Email = "email";
    public const string Mobile = "mobile";
    public const string Name = "name";

    public static readonly string[] All = [Email, Mobile, Name];
}

/// <summary>How a converted account of an app is activated (the names of actScheme 0, 1, 2).</summary>
public static class ActivationSchemes
{
    public const string None = "none";
    public const string Email = "email";
    public const string Sms = "sms";

    public static readonly string[] All = [None, Email, Sms];

    /// <summary>The apinode <c>actScheme</c> number: 0 none, 1 email, 2 SMS.</summary>
    public static int Number(string scheme) => scheme switch
    {
        Email => 1,
        Sms => 2,
        _ => 0,
    };
}

/// <summary>An authenticated app with its guest settings.</summary>
public sealed record GuestApp(string AppId, string AccountNameType, string Activation, string Locale);

/// <summary>
/// The calling app of an apinode request and its per-app settings. <c>x-deva-appcode</c> (or <c>x-deva-appkey</c>; when
/// both are sent they must name the same app) is the registered app id, <c>x-deva-appsecret</c> its registry secret.
/// </summary>
public sealed class GuestApps(PanDbContext db, AppRegistry registry, TimeProvider clock)
{
    /// <summary>Defaults of an app without a settings row.</summary>
    public static readonly GuestAppSettings Defaults = new()
    {
        AccountNameType = AccountNameTypes.Email,
        Activation = ActivationSchemes.Email,
        Locale = Locales.English,
    };

    /// <summary>The app, or <see cref="ApinodeException"/> −12 (no or unknown app) / −20 (wrong or missing secret).</summary>
    public async Task<GuestApp> AuthenticateAsync(ApinodeRequest request, CancellationToken cancellationToken)
    {
        var code = request.Header(ApinodeRequest.AppCodeHeader);
        var key = request.Header(ApinodeRequest.AppKeyHeader);
        var appId = AppIds.Normalize(code ?? key);
        if (appId is null || (code is not null && key is not null && AppIds.Normalize(key) != appId))
        {
            throw new ApinodeException(ApinodeCodes.InvalidApp, "Unable to find the application specified in the request.");
        }

        var secret = request.Header(ApinodeRequest.AppSecretHeader);
        var app = await registry.AuthenticateAsync(appId, secret, cancellationToken)
            ?? throw new ApinodeException(ApinodeCodes.NoPermission, "Not allowed to access the endpoint: the app credentials are wrong.");
        var settings = await FindAsync(app.AppId, cancellationToken);
        return new GuestApp(app.AppId, settings.AccountNameType, settings.Activation, settings.Locale);
    }

    /// <summary>The app's settings (the defaults when none were set).</summary>
    public async Task<GuestAppSettings> FindAsync(string appId, CancellationToken cancellationToken) =>
        await db.Set<GuestAppSettings>().AsNoTracking().FirstOrDefaultAsync(s => s.AppId == appId, cancellationToken)
        ?? new GuestAppSettings { AppId = appId, AccountNameType = Defaults.AccountNameType, Activation = Defaults.Activation, Locale = Defaults.Locale };

    /// <summary>
    /// Changes the given settings of <paramref name="appId"/> (null keeps a value; an app without a row starts from the
    /// defaults) and returns the result. A conditional insert decides (INSERT … ON CONFLICT DO NOTHING, the same SQL on
    /// SQLite and PostgreSQL), then an update of the given settings: of two changes of one app at once, also its first,
    /// both apply as one after the other would (each sets what it names; of a setting both name, the later value stays).
    /// Why not look first: both found no row and the second insert failed on the key.
    /// </summary>
    public async Task<GuestAppSettings> SetAsync(string appId, string? accountNameType, string? activation, string? locale, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var modified = now.ToUnixTimeMilliseconds();
        var inserted = await db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO guest_app_settings (app_id, account_name_type, activation, locale, modified)
            VALUES ({appId}, {accountNameType ?? Defaults.AccountNameType}, {activation ?? Defaults.Activation}, {locale ?? Defaults.Locale}, {modified})
            ON CONFLICT (app_id) DO NOTHING
            """, cancellationToken) == 1;
        if (!inserted)
        {
            await db.Set<GuestAppSettings>().Where(s => s.AppId == appId).ExecuteUpdateAsync(u => u
                .SetProperty(s => s.AccountNameType, s => accountNameType ?? s.AccountNameType)
                .SetProperty(s => s.Activation, s => activation ?? s.Activation)
                .SetProperty(s => s.Locale, s => locale ?? s.Locale)
                .SetProperty(s => s.Modified, now), cancellationToken);
        }

        return await db.Set<GuestAppSettings>().AsNoTracking().SingleAsync(s => s.AppId == appId, cancellationToken);
    }
}
