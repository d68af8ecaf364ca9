using System.Reflection;
using Google.Protobuf.Reflection;

namespace Pan.Contract.Tests;

/// <summary>
/// The contract as compiled into Pan.Contracts: every generated file descriptor whose
/// proto lives under <c>pan/</c>, with all messages, enums and services indexed by
/// full protobuf name.
/// </summary>
internal static class CompiledContract
{
    private static readonly Lazy<Index> Indexed = new(Build);

    public static IReadOnlyList<FileDescriptor> Files => Indexed.Value.Files;
    public static IReadOnlyDictionary<string, MessageDescriptor> Messages => Indexed.Value.Messages;
    public static IReadOnlyDictionary<string, EnumDescriptor> Enums => Indexed.Value.Enums;
    public static IReadOnlyDictionary<string, ServiceDescriptor> Services => Indexed.Value.Services;

    public static IEnumerable<MethodDescriptor> Methods => Services.Values.SelectMany(s => s.Methods);

    /// <summary>Protobuf spelling of a field's type: scalar keyword or full type name.</summary>
    public static string TypeName(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Message or FieldType.Group => field.MessageType.FullName,
        FieldType.Enum => field.EnumType.FullName,
        var scalar => scalar.ToString().ToLowerInvariant(),
    };

    public static string Describe(FieldDescriptor field) =>
        $"{(field.IsRepeated ? "repeated " : "")}{TypeName(field)} {field.Name} = {field.FieldNumber}";

    private sealed record Index(
        IReadOnlyList<FileDescriptor> Files,
        Dictionary<string, MessageDescriptor> Messages,
        Dictionary<string, EnumDescriptor> Enums,
        Dictionary<string, ServiceDescriptor> Services);

    private static Index Build()
    {
        // Every generated XxxReflection class exposes its file as a static Descriptor property.
        var assembly = typeof(Pan.General.Member.FirstReflection).Assembly;
        var files = assembly.GetTypes()
            .Select(t => t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static))
            .Where(p => p is not null && p.PropertyType == typeof(FileDescriptor))
            .Select(p => (FileDescriptor)p!.GetValue(null)!)
            .Where(f => f.Name.StartsWith("pan/", StringComparison.Ordinal))
            .DistinctBy(f => f.Name)
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();

        var messages = new Dictionary<string, MessageDescriptor>(StringComparer.Ordinal);
        var enums = new Dictionary<string, EnumDescriptor>(StringComparer.Ordinal);
        var services = new Dictionary<string, ServiceDescriptor>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            foreach (var e in file.EnumTypes)
            {
                enums[e.FullName] = e;
            }

            foreach (var m in file.MessageTypes)
            {
                AddMessage(m, messages, enums);
            }

            foreach (var s in file.Services)
            {
                services[s.FullName] = s;
            }
        }

        return new Index(files, messages, enums, services);
    }

    private static void AddMessage(
        MessageDescriptor message,
        Dictionary<string, MessageDescriptor> messages,
        Dictionary<string, EnumDescriptor> enums)
    {
        messages[message.FullName] = message;
        foreach (var e in message.EnumTypes)
        {
            enums[e.FullName] = e;
        }

        foreach (var nested in message.NestedTypes)
        {
            AddMessage(nested, messages, enums);
        }
    }
}
