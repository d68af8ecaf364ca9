using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Api;
using Google.Protobuf.Reflection;
using Pan.Server.Errors;

namespace Pan.Server.Transport;

/// <summary>
/// The OpenAPI 3.0 description of every HTTP/JSON route, built from the contract's own descriptors
/// (each rpc's <c>google.api.http</c> rule and its messages), so it can never drift from the protos.
/// Served at <c>GET /openapi/v1.json</c>.
/// </summary>
public static class OpenApiDocument
{
    public const string Path = "/openapi/v1.json";

    public static IEndpointRouteBuilder MapOpenApiDocument(this IEndpointRouteBuilder endpoints)
    {
        var document = new Lazy<string>(() => Build(SeedEnums.Files).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        endpoints.MapGet(Path, () => Results.Text(document.Value, "application/json"));
        return endpoints;
    }

    public static JsonObject Build(IEnumerable<FileDescriptor> files)
    {
        var paths = new JsonObject();
        var schemas = new JsonObject { ["google.rpc.Status"] = StatusSchema() };
        foreach (var service in files.SelectMany(f => f.Services))
        {
            foreach (var method in service.Methods)
            {
                var rule = method.GetOptions()?.GetExtension(AnnotationsExtensions.Http);
                if (rule is null || rule.PatternCase == HttpRule.PatternOneofCase.None)
                {
                    continue;
                }

                var (verb, route) = Route(rule);
                AddSchema(method.InputType, schemas);
                AddSchema(method.OutputType, schemas);
                var operation = new JsonObject
                {
                    ["operationId"] = $"{service.Name}_{method.Name}",
                    ["tags"] = new JsonArray(service.FullName),
                    ["description"] = $"gRPC: /{service.FullName}/{method.Name}",
                    ["requestBody"] = new JsonObject
                    {
                        ["required"] = true,
                        ["content"] = Json(Ref(method.InputType.FullName)),
                    },
                    ["responses"] = new JsonObject
                    {
                        ["200"] = new JsonObject { ["description"] = "OK", ["content"] = Json(Ref(method.OutputType.FullName)) },
                        ["default"] = new JsonObject
                        {
                            ["description"] = "Error: google.rpc.Status whose details hold a google.rpc.ErrorInfo (reason = seed error name, metadata.code = its number).",
                            ["content"] = Json(Ref("google.rpc.Status")),
                        },
                    },
                };
                var item = paths[route] as JsonObject ?? [];
                item[verb] = operation;
                paths[route] = item;
            }
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.3",
            ["info"] = new JsonObject
            {
                ["title"] = "Pan member center — HTTP/JSON routes",
                ["version"] = "v1",
                ["description"] = "Every gRPC method of the Pan contract is also served as POST <route> with the request message as a JSON body (proto3 JSON mapping).",
            },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }

    private static (string Verb, string Route) Route(HttpRule rule) => rule.PatternCase switch
    {
        HttpRule.PatternOneofCase.Get => ("get", rule.Get),
        HttpRule.PatternOneofCase.Put => ("put", rule.Put),
        HttpRule.PatternOneofCase.Delete => ("delete", rule.Delete),
        HttpRule.PatternOneofCase.Patch => ("patch", rule.Patch),
        _ => ("post", rule.Post),
    };

    private static JsonObject Json(JsonNode schema) => new() { ["application/json"] = new JsonObject { ["schema"] = schema } };

    private static JsonObject Ref(string fullName) => new() { ["$ref"] = $"#/components/schemas/{fullName}" };

    private static void AddSchema(MessageDescriptor message, JsonObject schemas)
    {
        if (schemas.ContainsKey(message.FullName) || IsWellKnown(message))
        {
            return;
        }

        var properties = new JsonObject();
        schemas[message.FullName] = new JsonObject { ["type"] = "object", ["properties"] = properties };
        foreach (var field in message.Fields.InDeclarationOrder())
        {
            var schema = FieldSchema(field, schemas);
            properties[field.JsonName] = field.IsRepeated ? new JsonObject { ["type"] = "array", ["items"] = schema } : schema;
        }
    }

    private static bool IsWellKnown(MessageDescriptor message) => message.File.Package == "google.protobuf";

    private static JsonObject FieldSchema(FieldDescriptor field, JsonObject schemas)
    {
        switch (field.FieldType)
        {
            case FieldType.Message when field.MessageType.FullName == "google.protobuf.Timestamp":
                return new JsonObject { ["type"] = "string", ["format"] = "date-time" };
            case FieldType.Message:
                AddSchema(field.MessageType, schemas);
                return Ref(field.MessageType.FullName);
            case FieldType.Enum:
                return new JsonObject
                {
                    ["type"] = "string",
                    ["enum"] = new JsonArray(field.EnumType.Values.Select(v => (JsonNode?)JsonValue.Create(v.Name)).ToArray()),
                };
            case FieldType.Bool:
                return new JsonObject { ["type"] = "boolean" };
            case FieldType.Double or FieldType.Float:
                return new JsonObject { ["type"] = "number" };
            case FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 or FieldType.UInt32 or FieldType.Fixed32:
                return new JsonObject { ["type"] = "integer", ["format"] = "int32" };
            case FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 or FieldType.UInt64 or FieldType.Fixed64:
                // Why: the proto3 JSON mapping writes 64-bit integers as strings (and accepts numbers).
                return new JsonObject { ["type"] = "string", ["format"] = "int64" };
            case FieldType.Bytes:
                return new JsonObject { ["type"] = "string", ["format"] = "byte" };
            default:
                return new JsonObject { ["type"] = "string" };
        }
    }

    private static JsonObject StatusSchema() => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["code"] = new JsonObject { ["type"] = "integer", ["description"] = "gRPC status code" },
            ["message"] = new JsonObject { ["type"] = "string" },
            ["details"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "object" } },
        },
    };
}
