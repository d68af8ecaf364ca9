using System.Globalization;
using Microsoft.Net.Http.Headers;

namespace Pan.Server.Avatars;

/// <summary>
/// <c>GET /avatars/{key}-{size}.png</c> on the HTTP listener. A key always names the same picture (<see cref="AvatarKeys"/>), so a file never changes:
/// it is served with <c>Cache-Control: public, max-age=31536000, immutable</c> and a strong ETag (the key and size),
/// and <c>If-None-Match</c> answers 304. Anything else (unknown key, other size, bad name): 404.
/// </summary>
public static class AvatarFiles
{
    public const string CacheControl = "public, max-age=31536000, immutable";

    public static IEndpointRouteBuilder MapAvatarFiles(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/avatars/{file}", ServeAsync).ExcludeFromDescription();
        return endpoints;
    }

    private static async Task<IResult> ServeAsync(string file, HttpContext http, IAvatarStore store)
    {
        if (Parse(file) is not var (key, size) || await store.OpenReadAsync(key, size, http.RequestAborted) is not { } stream)
        {
            return Results.NotFound();
        }

        http.Response.Headers.CacheControl = CacheControl;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return Results.Stream(stream, "image/png", entityTag: new EntityTagHeaderValue($"\"{key}-{size.ToString(CultureInfo.InvariantCulture)}\""));
    }

    /// <summary>The key and size of a canonical avatar file name (<see cref="AvatarKeys.FileName"/>), else null.</summary>
    private static (string Key, int Size)? Parse(string file)
    {
        if (file.Length <= AvatarKeys.Length || file[AvatarKeys.Length] != '-' || !AvatarKeys.IsKey(file[..AvatarKeys.Length]))
        {
            return null;
        }

        var key = file[..AvatarKeys.Length];
        return AvatarKeys.Sizes.Where(size => AvatarKeys.FileName(key, size) == file).Select(size => ((string, int)?)(key, size)).FirstOrDefault();
    }
}
