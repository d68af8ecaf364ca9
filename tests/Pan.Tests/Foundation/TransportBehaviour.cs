using System.Net;
using System.Text.Json;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client.Web;
using Grpc.Reflection.V1Alpha;
using Pan.Server.Errors;
using Pan.Tests.Infrastructure;

namespace Pan.Tests.Foundation;

/// <summary>The server speaks the contract over every transport real clients use.</summary>
public abstract class TransportBehaviour<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : ServerFixture
{
    private PanServer Server => fixture.Server;

    // Why a method the contract lacks: every rpc of the contract is built now (pan.oauth.ConsentProcess/Do was the last);
    // a method the server does not know must still answer UNIMPLEMENTED everywhere.
    private const string UnbuiltService = "pan.oauth.ConsentProcess";
    private const string UnbuiltMethod = "NoSuchMethod";


    [Fact]
    public async Task UnbuiltRpc_OverNativeGrpc_ReturnsUnimplemented()
    {
        Assert.Equal(StatusCode.Unimplemented, await RawGrpc.CallAsync(Server.Grpc, UnbuiltService, UnbuiltMethod));
    }

    [Theory]
    [InlineData(GrpcWebMode.GrpcWebText, null)]
    [InlineData(GrpcWebMode.GrpcWebText, "/gapi")]
    [InlineData(GrpcWebMode.GrpcWeb, null)]
    [InlineData(GrpcWebMode.GrpcWeb, "/gapi")]
    public async Task UnbuiltRpc_OverGrpcWeb_ReturnsUnimplemented(GrpcWebMode mode, string? prefix)
    {
        using var channel = Server.GrpcWeb(mode, prefix);
        Assert.Equal(StatusCode.Unimplemented, await RawGrpc.CallAsync(channel, UnbuiltService, UnbuiltMethod));
    }

    [Fact]
    public async Task LastBuiltRpc_OverHttpJson_AnswersWithTheStatusBody()
    {
        using var response = await Server.Http.PostAsync("/v1/oauth/consent/do", Json("{}"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)StatusCode.Unauthenticated, body.RootElement.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task EveryRpc_WithEmptyRequest_AnswersWithoutInternalError_OnEveryTransport()
    {
        using var web = Server.GrpcWeb(GrpcWebMode.GrpcWebText, "/gapi");
        var failures = new List<string>();
        foreach (var method in Contract.AllMethods())
        {
            foreach (var (name, channel) in new[] { ("grpc", Server.Grpc), ("grpc-web", web) })
            {
                var code = await RawGrpc.CallAsync(channel, method.Service.FullName, method.Name);
                if (code is StatusCode.Internal or StatusCode.Unknown)
                {
                    failures.Add($"{name} {method.FullName}: {code}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task EveryRpc_HasAJsonRoute_ThatNeverAnswers404Or500()
    {
        var failures = new List<string>();
        foreach (var method in Contract.AllMethods())
        {
            var rule = method.GetOptions().GetExtension(Google.Api.AnnotationsExtensions.Http);
            using var response = await Server.Http.PostAsync(rule.Post, Json("{}"));
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.InternalServerError)
            {
                failures.Add($"{rule.Post}: {(int)response.StatusCode}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// An HTTP/JSON call with an empty body, no body at all or <c>{}</c> answers what the same empty request answers over
    /// gRPC: for an rpc with required fields, INVALID_ARGUMENT naming the first missing one.
    /// </summary>
    [Fact]
    public async Task EveryRpc_OverHttpJson_WithAnEmptyBlankOrMissingBody_NamesTheSameFieldAsOverGrpc()
    {
        var failures = new List<string>();
        var named = 0;
        foreach (var method in Contract.AllMethods())
        {
            var grpc = await RawGrpc.FailureOfAsync(Server.Grpc, method.Service.FullName, method.Name);
            if (grpc?.StatusCode != StatusCode.InvalidArgument)
            {
                continue;
            }

            var expected = grpc.BadRequest()?.FieldViolations.Select(v => v.Field).ToList() ?? [];
            named += expected.Count > 0 ? 1 : 0;
            var route = method.GetOptions().GetExtension(Google.Api.AnnotationsExtensions.Http).Post;
            foreach (var (form, content) in new (string, HttpContent?)[] { ("{}", Json("{}")), ("empty", Json("")), ("blank", Json(" \r\n\t ")), ("none", null) })
            {
                using var response = await Server.Http.PostAsync(route, content);
                var fields = await FieldsOfAsync(response);
                if (response.StatusCode != HttpStatusCode.BadRequest || !fields.SequenceEqual(expected))
                {
                    failures.Add($"{route} ({form}): {(int)response.StatusCode} [{string.Join(",", fields)}], gRPC names [{string.Join(",", expected)}]");
                }
            }
        }

        Assert.True(named > 10, $"{named} rpcs name a field");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task MalformedJsonBody_IsInvalidArgument()
    {
        using var response = await Server.Http.PostAsync("/v2/member/validate-display-name", Json("{\"displayName\": 12"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    // Why: a JSON body the transcoder cannot read into the request message (an enum name the contract lacks, a number
    // field holding a word) must answer like every other bad input: INVALID_ARGUMENT with ErrorInfo and a BadRequest
    // naming the field by its proto path, not a bare message from the JSON layer.
    [Theory]
    [InlineData("/v2/member/register", """{"phase":"NOPE"}""", "phase")]
    [InlineData("/v2/member/read-object", """{"uids":["x"]}""", "uids")]
    [InlineData("/v2/member/save-address-book", """{"accessToken":"x","addressBook":{"id":"abc"}}""", "address_book.id")]
    [InlineData("/v2/member/save-address-book", """{"access_token":"x","address_book":{"type":"TypeNope"}}""", "address_book.type")]
    public async Task UnreadableJsonField_IsInvalidArgument_NamingTheField(string route, string body, string field)
    {
        using var response = await Server.Http.PostAsync(route, Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)StatusCode.InvalidArgument, doc.RootElement.GetProperty("code").GetInt32());
        var details = doc.RootElement.GetProperty("details").EnumerateArray().ToList();
        var info = Assert.Single(details, d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc.ErrorInfo");
        Assert.Equal("INVALID_ARGUMENT", info.GetProperty("reason").GetString());
        Assert.Equal("pan", info.GetProperty("domain").GetString());
        var badRequest = Assert.Single(details, d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc.BadRequest");
        var violation = Assert.Single(badRequest.GetProperty("fieldViolations").EnumerateArray());
        Assert.Equal(field, violation.GetProperty("field").GetString());
        Assert.StartsWith(field + ":", doc.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public async Task MalformedJsonBody_StillCarriesErrorInfo()
    {
        using var response = await Server.Http.PostAsync("/v2/member/validate-display-name", Json("{\"displayName\": 12"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var info = Assert.Single(doc.RootElement.GetProperty("details").EnumerateArray(),
            d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc.ErrorInfo");
        Assert.Equal("INVALID_ARGUMENT", info.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Reflection_ListsEveryServiceOfTheContract()
    {
        var client = new ServerReflection.ServerReflectionClient(Server.Grpc);
        using var call = client.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var listed = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToHashSet();
        string[] expected =
        [
            "pan.general.member.MemberServiceV2", "pan.general.member.dangerous.Command", "pan.general.admin.AdminService",
            "pan.lever.member.MemberService", "pan.oauth.App", "pan.oauth.ConsentProcess", "grpc.health.v1.Health",
        ];
        Assert.All(expected, s => Assert.Contains(s, listed));
    }

    [Fact]
    public async Task Reflection_ServesEveryContractFile()
    {
        var client = new ServerReflection.ServerReflectionClient(Server.Grpc);
        foreach (var file in SeedEnums.Files)
        {
            using var call = client.ServerReflectionInfo();
            await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileByFilename = file.Name });
            await call.RequestStream.CompleteAsync();
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.NotEmpty(call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto);
        }

        Assert.Equal(10, SeedEnums.Files.Count);
    }

    [Fact]
    public async Task GrpcHealth_ReportsServing_AndHealthzChecksTheDatabase()
    {
        var health = new Health.HealthClient(Server.Grpc);
        var status = HealthCheckResponse.Types.ServingStatus.Unknown;
        for (var i = 0; i < 50 && status != HealthCheckResponse.Types.ServingStatus.Serving; i++)
        {
            try
            {
                status = (await health.CheckAsync(new HealthCheckRequest())).Status;
            }
            catch (RpcException)
            {
                // Not yet published right after start.
            }

            if (status != HealthCheckResponse.Types.ServingStatus.Serving)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, status);

        using var response = await Server.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
    }

    // Why: Watch is the one server-streaming method Pan maps; it must stream through Pan's guarded binding.
    [Fact]
    public async Task GrpcHealthWatch_StreamsTheServingStatus()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = new Health.HealthClient(Server.Grpc).Watch(new HealthCheckRequest(), cancellationToken: cancel.Token);
        var status = HealthCheckResponse.Types.ServingStatus.Unknown;
        while (status != HealthCheckResponse.Types.ServingStatus.Serving && await call.ResponseStream.MoveNext(cancel.Token))
        {
            status = call.ResponseStream.Current.Status;
        }

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, status);
    }

    [Fact]
    public async Task OpenApi_DescribesEveryJsonRoute()
    {
        using var response = await Server.Http.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = doc.RootElement.GetProperty("paths");
        foreach (var method in Contract.AllMethods())
        {
            var route = method.GetOptions().GetExtension(Google.Api.AnnotationsExtensions.Http).Post;
            Assert.True(paths.TryGetProperty(route, out var item), $"{route} missing from OpenAPI");
            Assert.True(item.TryGetProperty("post", out _));
        }

        var login = doc.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("pan.general.member.LoginRequest");
        Assert.True(login.GetProperty("properties").TryGetProperty("phaseSessionToken", out _));
    }

    /// <summary>
    /// HTTP/JSON writes 64-bit integers as strings (the proto3 JSON mapping, and what /openapi/v1.json says:
    /// <c>"type": "string", "format": "int64"</c>), so a JavaScript client never rounds a uid; it reads both forms.
    /// </summary>
    [Fact]
    public async Task HttpJson_Writes64BitIntegersAsStrings_AndReadsBothForms()
    {
        var member = await Members.TestMembers.CreateAsync(Server);
        var access = await Members.TestMembers.AccessTokenAsync(Server, member);
        using var response = await Server.Http.PostAsync("/v2/member/me", Json($$"""{"accessToken":"{{access}}"}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var me = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var uid = me.RootElement.GetProperty("user").GetProperty("uid");
        Assert.Equal(JsonValueKind.String, uid.ValueKind);
        Assert.Equal(member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), uid.GetString());

        using var openApi = JsonDocument.Parse(await Server.Http.GetStringAsync("/openapi/v1.json"));
        var described = openApi.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("pan.atom.member.Object")
            .GetProperty("properties").GetProperty("uid");
        Assert.Equal(("string", "int64"), (described.GetProperty("type").GetString(), described.GetProperty("format").GetString()));

        foreach (var form in new[] { member.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture), $"\"{member.Uid}\"" })
        {
            using var read = await Server.Http.PostAsync("/v2/member/read-object", Json($$"""{"uids":[{{form}}]}"""));
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }
    }

    /// <summary>The fields a JSON error answer's BadRequest names (none when it has no BadRequest or is no JSON).</summary>
    private static async Task<List<string>> FieldsOfAsync(HttpResponseMessage response)
    {
        try
        {
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return doc.RootElement.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array
                ? details.EnumerateArray()
                    .Where(d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc.BadRequest")
                    .SelectMany(d => d.GetProperty("fieldViolations").EnumerateArray().Select(v => v.GetProperty("field").GetString()!))
                    .ToList()
                : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
}

public sealed class TransportBehaviour_Sqlite(SqliteServerFixture f) : TransportBehaviour<SqliteServerFixture>(f);

public sealed class TransportBehaviour_Postgres(PostgresServerFixture f) : TransportBehaviour<PostgresServerFixture>(f);
