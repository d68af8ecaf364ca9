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

    /// <summary>Changes the given settings of <paramref name="appId"/> (null keeps a value) and returns the result.</summary>
    public async Task<GuestAppSettings> SetAsync(string appId, string? accountNameType, string? activation, string? locale, CancellationToken cancellationToken)
    {
        var row = await db.Set<GuestAppSettings>().FirstOrDefaultAsync(s => s.AppId == appId, cancellationToken);
        if (row is null)
        {
            row = new GuestAppSettings { AppId = appId, AccountNameType = Defaults.AccountNameType, Activation = Defaults.Activation, Locale = Defaults.Locale };
            db.Add(row);
        }

        row.AccountNameType = accountNameType ?? row.AccountNameType;
        row.Activation = activation ?? row.Activation;
        row.Locale = locale ?? row.Locale;
        row.Modified = clock.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return row;
    }
}
