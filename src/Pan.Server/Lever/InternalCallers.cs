using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Pan.Server.Errors;

namespace Pan.Server.Lever;

/// <summary><c>Pan:Internal:*</c>: credentials of Pan's own back-end callers (the Lever services).</summary>
public sealed class InternalOptions
{
    public const string Section = "Pan:Internal";

    /// <summary>Shortest accepted key: 32 characters (128 bits as hex; use 32 random bytes in base64 or hex).</summary>
    public const int MinKeyLength = 32;

    /// <summary>
    /// Keys accepted in the <c>x-pan-internal-key</c> header; several may be valid at once so a key can be rotated.
    /// Empty (the default): every internal call is refused.
    /// </summary>
    [MaxLength(20, ErrorMessage = "Pan:Internal:ApiKeys may list at most {1} keys.")]
    public List<string> ApiKeys { get; set; } = [];
}

/// <summary>
/// Admits internal callers: the <c>x-pan-internal-key</c> header (gRPC metadata or HTTP header) must equal one of
/// <c>Pan:Internal:ApiKeys</c>, compared in constant time on SHA-256 digests (so neither content nor length leaks).
/// </summary>
public sealed class InternalCallers
{
    public const string Header = "x-pan-internal-key";

    private readonly byte[][] keyDigests;
    private readonly ILogger<InternalCallers> logger;

    public InternalCallers(IOptions<InternalOptions> options, ILogger<InternalCallers> logger)
    {
        keyDigests = [.. options.Value.ApiKeys.Where(k => !string.IsNullOrEmpty(k)).Select(Digest)];
        this.logger = logger;
    }

    /// <summary>Throws UNAUTHENTICATED unless the call carries a valid internal key.</summary>
    public void Require(ServerCallContext context)
    {
        var presented = context.GetHttpContext().Request.Headers[Header].ToString();
        if (!IsValid(presented))
        {
            logger.LogWarning("Internal call to {Method} refused: {Problem}", context.Method,
                keyDigests.Length == 0 ? "no Pan:Internal:ApiKeys configured" : string.IsNullOrEmpty(presented) ? "no key" : "wrong key");
            throw PanError.Plain(StatusCode.Unauthenticated, "UNAUTHENTICATED", $"A valid {Header} is required.");
        }
    }

    /// <summary>True when <paramref name="presented"/> is one of the configured keys.</summary>
    public bool IsValid(string? presented)
    {
        if (string.IsNullOrEmpty(presented) || keyDigests.Length == 0)
        {
            return false;
        }

        var digest = Digest(presented);
        var match = false;
        foreach (var key in keyDigests)
        {
            // Why: no early exit, so the time taken does not depend on which key (if any) matched.
            match |= CryptographicOperations.FixedTimeEquals(digest, key);
        }

        return match;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

public static class InternalCallersExtensions
{
    /// <summary>Binds and validates <c>Pan:Internal</c> and registers what the Lever endpoints need.</summary>
    public static IServiceCollection AddPanLever(this IServiceCollection services)
    {
        services.AddOptions<InternalOptions>().BindConfiguration(InternalOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.ApiKeys.All(k => k is { Length: >= InternalOptions.MinKeyLength }),
                $"Pan:Internal:ApiKeys entries must be at least {InternalOptions.MinKeyLength} characters (e.g. 32 random bytes in hex).")
            .ValidateOnStart();
        services.AddSingleton<InternalCallers>();
        services.AddScoped<MemberPhones>();
        return services;
    }
}
