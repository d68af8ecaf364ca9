using System.Net.Http.Json;
using System.Text.Json;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Guests;

/// <summary>How a call sends its parameters.</summary>
public enum Send
{
    Query,
    Json,
    Form,
}

/// <summary>One apinode answer: the HTTP status and the envelope.</summary>
public sealed record ApinodeAnswer(int Status, JsonElement Body)
{
    public int Code => Body.GetProperty("code").GetInt32();

    public string Message => Body.GetProperty("message").GetString()!;

    public JsonElement Value => Body.GetProperty("value");

    public bool HasToken => Body.TryGetProperty("token", out _);

    public string Token => Body.GetProperty("token").GetProperty("token").GetString()!;

    public long ValidTo => Body.GetProperty("token").GetProperty("validTo").GetInt64();

    public long Id => Value.GetProperty("id").GetInt64();
}

/// <summary>Calls the apinode endpoints over plain HTTP as an app does: x-deva-* headers, GET query or POST JSON/form.</summary>
public sealed class ApinodeClient(PanServer server, string appId, string secret, string basePath = "")
{
    /// <param name="headers">Further request headers (a Host among them replaces the real one).</param>
    public async Task<ApinodeAnswer> CallAsync(
        string operation, IDictionary<string, string>? parameters = null, string? token = null, Send send = Send.Json, IDictionary<string, string>? headers = null)
    {
        parameters ??= new Dictionary<string, string>();
        var path = basePath + "/admin/user/" + operation;
        using var request = send == Send.Query
            ? new HttpRequestMessage(HttpMethod.Get, path + "?" + string.Join('&', parameters.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}")))
            : new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = send == Send.Json ? JsonContent.Create(parameters) : new FormUrlEncodedContent(parameters),
            };
        request.Headers.Add("x-deva-appcode", appId);
        request.Headers.Add("x-deva-appsecret", secret);
        if (token is not null)
        {
            request.Headers.Add("x-deva-token", token);
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            if (name == "Host")
            {
                request.Headers.Host = value;
            }
            else
            {
                request.Headers.Add(name, value);
            }
        }

        return await SendAsync(server.Http, request);
    }

    public static async Task<ApinodeAnswer> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(body);
        return new ApinodeAnswer((int)response.StatusCode, document.RootElement.Clone());
    }

    public Task<ApinodeAnswer> CreateTempAsync(IDictionary<string, string>? parameters = null) => CallAsync("createTemp", parameters);

    /// <summary>A client-side password hash, as apinode clients send it (64 hex digits).</summary>
    public static string ClientHash() => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Guid.NewGuid().ToByteArray()));
}
