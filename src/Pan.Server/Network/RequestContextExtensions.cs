namespace Pan.Server.Network;

/// <summary>Small helpers for reading the caller off a request.</summary>
public static class RequestContextExtensions
{
    /// <summary>The caller's address as text for storage (null when unknown).</summary>
    public static string? ClientIpText(this HttpContext context) => ClientAddress.Of(context)?.ToString();
}
