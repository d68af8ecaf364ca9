using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Pan.Server.Tokens;

/// <summary>The claims an auth token carries.</summary>
/// <param name="Expire">The <c>expire</c> claim: Unix seconds.</param>
internal sealed record AuthTokenPayload(long Uid, Guid ObjectId, long Expire, string AuthMethod, long SessionId, string Jti);

/// <summary>What reading an auth token found before the database is asked.</summary>
internal enum AuthTokenShape
{
    /// <summary>Well-formed and correctly signed by a key that still verifies.</summary>
    Signed,

    /// <summary>Not a JWT, not HS512, unknown or retired kid, wrong signature or missing claims.</summary>
    Invalid,
}

/// <summary>
/// Writes and reads the auth token: a JWT with header <c>{"alg":"HS512","typ":"JWT","kid":…}</c> and the claims of the
/// original (uid, object_id, expire in Unix seconds, auth_method) plus <c>sid</c> (the server-side session) and
/// <c>jti</c>. Signing and checking are Microsoft.IdentityModel's, which compares signatures in constant time.
/// Lifetime is not checked here: the caller compares <c>expire</c> with its own clock.
/// </summary>
internal sealed class AuthTokenCodec(SigningKeyRing keys)
{
    /// <summary>Longer than any token Pan writes; anything bigger is refused unread.</summary>
    public const int MaxLength = 2048;

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    public async Task<string> WriteAsync(AuthTokenPayload payload, CancellationToken cancellationToken)
    {
        var key = await keys.GetSigningKeyAsync(cancellationToken);
        var json = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["uid"] = payload.Uid,
            ["object_id"] = payload.ObjectId.ToString("D"),
            ["expire"] = payload.Expire,
            ["auth_method"] = payload.AuthMethod,
            ["sid"] = payload.SessionId,
            ["jti"] = payload.Jti,
        });
        return Handler.CreateToken(json, new SigningCredentials(key.Key, SecurityAlgorithms.HmacSha512));
    }

    public async Task<(AuthTokenShape Shape, AuthTokenPayload? Payload)> ReadAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxLength || !Handler.CanReadToken(token))
        {
            return (AuthTokenShape.Invalid, null);
        }

        JsonWebToken unverified;
        try
        {
            unverified = Handler.ReadJsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return (AuthTokenShape.Invalid, null);
        }

        var key = await keys.FindAsync(unverified.Kid, cancellationToken);
        if (key is null || unverified.Alg != SecurityAlgorithms.HmacSha512)
        {
            return (AuthTokenShape.Invalid, null);
        }

        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            IssuerSigningKey = key.Key,
            TryAllIssuerSigningKeys = false,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha512],
            RequireSignedTokens = true,
            ValidateIssuer = false,
            ValidateAudience = false,
            // Why: the token carries the original's `expire` claim, not `exp`; the caller checks it against TimeProvider.
            ValidateLifetime = false,
            RequireExpirationTime = false,
        });
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return (AuthTokenShape.Invalid, null);
        }

        var payload = jwt.TryGetPayloadValue<long>("uid", out var uid)
            && jwt.TryGetPayloadValue<string>("object_id", out var objectId) && Guid.TryParseExact(objectId, "D", out var objectGuid)
            && jwt.TryGetPayloadValue<long>("expire", out var expire)
            && jwt.TryGetPayloadValue<string>("auth_method", out var method) && !string.IsNullOrEmpty(method)
            && jwt.TryGetPayloadValue<long>("sid", out var sid)
            && jwt.TryGetPayloadValue<string>("jti", out var jti)
                ? new AuthTokenPayload(uid, objectGuid, expire, method, sid, jti ?? string.Empty)
                : null;
        return payload is null ? (AuthTokenShape.Invalid, null) : (AuthTokenShape.Signed, payload);
    }
}
