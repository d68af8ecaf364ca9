using Microsoft.Extensions.Options;
using Pan.Server.Links;
using Pan.Server.Session;

namespace Pan.Server.Avatars;

/// <summary>
/// The <c>avatar</c> URL of a member: for a Pan avatar key, <c>{Pan:Links:PublicBaseUrl}/avatars/{key}-280.png</c>;
/// an avatar_key that is already an absolute http(s) URL (carried over from older stores) as is; otherwise
/// <c>Pan:Members:DefaultAvatarUrl</c>.
/// </summary>
public sealed class AvatarUrls(IOptions<LinksOptions> links, IOptions<MemberViewOptions> view)
{
    public string For(string? avatarKey)
    {
        if (AvatarKeys.IsKey(avatarKey))
        {
            return $"{links.Value.Base}/avatars/{AvatarKeys.FileName(avatarKey!, AvatarKeys.Shown)}";
        }

        return Uri.TryCreate(avatarKey, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? avatarKey!
            : view.Value.DefaultAvatarUrl;
    }
}
