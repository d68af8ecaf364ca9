using System.Text;
using Google.Api;
using Google.Protobuf.Reflection;

namespace Pan.Contract.Tests;

/// <summary>
/// Every rpc is reachable over HTTP/JSON with one route scheme:
/// <c>POST &lt;service prefix&gt;/&lt;kebab-case method name&gt;</c> with body <c>"*"</c>
/// (the scheme is described at the top of proto/pan/general/member/first.proto).
/// </summary>
public sealed class HttpRouteTests
{
    private const string Scheme = "the route scheme (POST <prefix>/<kebab-case method>, body \"*\", one route per rpc)";

    private static readonly Dictionary<string, string> PrefixByService = new(StringComparer.Ordinal)
    {
        ["pan.general.member.MemberServiceV2"] = "/v2/member/",
        ["pan.general.member.dangerous.Command"] = "/v2/member/dangerous/",
        ["pan.general.admin.AdminService"] = "/v1/admin/",
        ["pan.lever.member.MemberService"] = "/v1/lever/member/",
        ["pan.oauth.App"] = "/v1/oauth/app/",
        ["pan.oauth.ConsentProcess"] = "/v1/oauth/consent/",
    };

    [Fact]
    public void EveryRpc_HasPostRouteWithWholeRequestAsBody()
    {
        var mismatches = new Mismatches();

        foreach (var method in CompiledContract.Methods)
        {
            var rule = RuleOf(method);
            if (rule is null)
            {
                mismatches.Add($"{method.FullName}: no google.api.http option");
                continue;
            }

            if (rule.PatternCase != HttpRule.PatternOneofCase.Post)
            {
                mismatches.Add($"{method.FullName}: HTTP verb is {rule.PatternCase}, expected Post");
            }

            if (rule.Body != "*")
            {
                mismatches.Add($"{method.FullName}: body is '{rule.Body}', expected '*'");
            }

            if (rule.AdditionalBindings.Count > 0)
            {
                mismatches.Add($"{method.FullName}: has additional_bindings; one route per rpc");
            }
        }

        Assert.NotEmpty(CompiledContract.Methods);
        mismatches.AssertNone("HTTP rule", Scheme);
    }

    [Fact]
    public void NoTwoRpcs_ShareARoute()
    {
        var mismatches = new Mismatches();
        var routes = CompiledContract.Methods
            .Select(m => (Method: m.FullName, Route: RuleOf(m) is { } rule ? $"{rule.PatternCase} {PathOf(rule)}" : null))
            .Where(r => r.Route is not null)
            .GroupBy(r => r.Route!, StringComparer.Ordinal)
            .Where(g => g.Count() > 1);

        foreach (var shared in routes)
        {
            mismatches.Add($"{shared.Key}: shared by {string.Join(", ", shared.Select(r => r.Method))}");
        }

        mismatches.AssertNone("route", Scheme);
    }

    [Fact]
    public void EveryRoute_FollowsRouteScheme()
    {
        var mismatches = new Mismatches();

        foreach (var service in CompiledContract.Services.Values)
        {
            if (!PrefixByService.TryGetValue(service.FullName, out var prefix))
            {
                mismatches.Add($"{service.FullName}: no route prefix in the scheme");
                continue;
            }

            foreach (var method in service.Methods)
            {
                var expected = prefix + Kebab(method.Name);
                var actual = RuleOf(method) is { } rule ? PathOf(rule) : "(none)";
                if (actual != expected)
                {
                    mismatches.Add($"{method.FullName}: route is '{actual}', expected '{expected}'");
                }
            }
        }

        mismatches.AssertNone("route", Scheme);
    }

    [Theory]
    [InlineData("Login", "login")]
    [InlineData("AccessToken", "access-token")]
    [InlineData("ValidateDisplayNameV2", "validate-display-name-v2")]
    [InlineData("GetQRCode", "get-qr-code")]
    [InlineData("AvPlus", "av-plus")]
    [InlineData("SendSMS", "send-sms")]
    public void Kebab_SplitsWordsAndAcronyms(string method, string expected) =>
        Assert.Equal(expected, Kebab(method));

    private static HttpRule? RuleOf(MethodDescriptor method) =>
        method.GetOptions()?.GetExtension(AnnotationsExtensions.Http);

    private static string PathOf(HttpRule rule) => rule.PatternCase switch
    {
        HttpRule.PatternOneofCase.Get => rule.Get,
        HttpRule.PatternOneofCase.Put => rule.Put,
        HttpRule.PatternOneofCase.Post => rule.Post,
        HttpRule.PatternOneofCase.Delete => rule.Delete,
        HttpRule.PatternOneofCase.Patch => rule.Patch,
        HttpRule.PatternOneofCase.Custom => rule.Custom.Path,
        _ => "",
    };

    /// <summary>
    /// Kebab case of a method name: a new word starts at an upper-case letter after a
    /// lower-case letter or digit, or at the last capital of an acronym (QRCode → qr-code).
    /// </summary>
    private static string Kebab(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (i > 0 && char.IsUpper(c))
            {
                var previous = name[i - 1];
                var nextIsLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && nextIsLower))
                {
                    sb.Append('-');
                }
            }

            sb.Append(char.ToLowerInvariant(c));
        }

        return sb.ToString();
    }
}
