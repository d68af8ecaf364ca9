using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Pan.Data.Members;
using Pan.Server.Avatars;
using Pan.Server.Links;
using Pan.Server.Session;

namespace Pan.Server.Omniauth;

/// <summary>
/// The success body of <c>through_omniauth</c> and <c>refresh_token</c>, field for field as in the seed:
/// <c>{"code":200,"message":"ok","data":{…}}</c>, plus the top-level <c>unconfirmed_email_info</c> when the member's
/// email is not verified. Pan keeps no "frozen" state, so <c>freeze_at</c> never appears.
/// </summary>
/// <remarks>
/// Mapping: <c>account</c> is the email (the seed's login name); <c>name</c> and <c>profile_data.display_name</c>
/// are the display name; <c>uuid</c> the object_id; <c>confirmed</c> whether the email is verified, and while it is
/// not, <c>unconfirmed_email</c> repeats it; <c>bounced</c>/<c>complainted</c> are false (Pan's mailer records no
/// bounces or complaints); <c>is_developer</c> is false; icon URLs are the member's avatar (100 and 280 px) or the
/// configured defaults, with <c>icon_default_id</c> only for the defaults.
/// </remarks>
public sealed class OmniauthResponses(IOptions<OmniauthOptions> options, IOptions<LinksOptions> links, IOptions<MemberViewOptions> view, TimeProvider clock)
{
    public static string Time(DateTimeOffset instant) =>
        instant.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public JsonObject Success(Member member, OmniauthTokenPair tokens)
    {
        var settings = options.Value;
        var hasAvatar = AvatarKeys.IsKey(member.AvatarKey) || IsAbsoluteHttp(member.AvatarKey);
        var confirmed = member.EmailVerified && !string.IsNullOrEmpty(member.Email);
        var unconfirmed = !confirmed && !string.IsNullOrEmpty(member.Email) ? member.Email : null;
        var body = new JsonObject
        {
            ["code"] = 200,
            ["message"] = "ok",
            ["data"] = new JsonObject
            {
                ["current_time"] = Time(clock.GetUtcNow()),
                ["account"] = member.Email ?? member.Username ?? member.DisplayName,
                ["name"] = member.DisplayName,
                ["email"] = member.Email,
                ["uuid"] = member.ObjectId.ToString("D"),
                ["unconfirmed_email"] = unconfirmed,
                ["is_developer"] = false,
                ["confirmed"] = confirmed,
                ["bounced"] = false,
                ["complainted"] = false,
                ["created_at"] = Time(member.Created),
                ["version_email_log_release_time"] = Time(settings.VersionEmailLogReleaseTime),
                ["profile_data"] = new JsonObject
                {
                    ["icon_info"] = new JsonObject
                    {
                        ["icon_url"] = new JsonObject
                        {
                            ["100"] = IconUrl(member.AvatarKey, 100),
                            ["280"] = IconUrl(member.AvatarKey, 280),
                        },
                        ["icon_default_id"] = hasAvatar ? null : settings.DefaultIconId,
                    },
                    ["display_name"] = member.DisplayName,
                },
                ["access_token"] = tokens.AccessToken,
                ["token_type"] = "bearer",
                ["expires_in"] = tokens.ExpiresIn,
                ["refresh_token"] = tokens.RefreshToken,
            },
        };
        if (unconfirmed is not null)
        {
            body["unconfirmed_email_info"] = new JsonObject { ["email"] = unconfirmed, ["bounced"] = false };
        }

        return body;
    }

    private string IconUrl(string? avatarKey, int size)
    {
        if (AvatarKeys.IsKey(avatarKey))
        {
            return $"{links.Value.Base}/avatars/{AvatarKeys.FileName(avatarKey!, size)}";
        }

        if (IsAbsoluteHttp(avatarKey))
        {
            return avatarKey!;
        }

        var configured = size == 100 ? options.Value.DefaultIcon100Url : options.Value.DefaultIcon280Url;
        return configured.Length > 0 ? configured : view.Value.DefaultAvatarUrl;
    }

    private static bool IsAbsoluteHttp(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}
