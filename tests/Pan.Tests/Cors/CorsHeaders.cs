namespace Pan.Tests.Cors;

/// <summary>Reads and checks the CORS headers of an answer (response or content headers alike).</summary>
public static class CorsHeaders
{
    public static IEnumerable<string> Values(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values
        : response.Content.Headers.TryGetValues(name, out var content) ? content : [];

    public static string Single(HttpResponseMessage response, string name) => Assert.Single(Values(response, name));

    public static List<string> List(HttpResponseMessage response, string name) =>
        [.. Values(response, name).SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))];

    public static void AssertExposesGrpcStatus(HttpResponseMessage response)
    {
        var exposed = List(response, "Access-Control-Expose-Headers");
        foreach (var header in new[] { "grpc-status", "grpc-message", "grpc-status-details-bin", "Retry-After" })
        {
            Assert.Contains(header, exposed, StringComparer.OrdinalIgnoreCase);
        }
    }

    public static void AssertVariesByOrigin(HttpResponseMessage response) =>
        Assert.Contains("Origin", List(response, "Vary"), StringComparer.OrdinalIgnoreCase);

    public static void AssertNoCredentials(HttpResponseMessage response) =>
        Assert.Empty(Values(response, "Access-Control-Allow-Credentials"));

    public static void AssertNoCors(HttpResponseMessage response)
    {
        foreach (var header in new[]
        {
            "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers",
            "Access-Control-Expose-Headers", "Access-Control-Max-Age",
        })
        {
            Assert.True(!Values(response, header).Any(), $"{header} in the answer to {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}");
        }
    }
}
