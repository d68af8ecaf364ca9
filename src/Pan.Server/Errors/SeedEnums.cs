using System.Collections.Frozen;
using System.Reflection;
using Google.Protobuf.Reflection;

namespace Pan.Server.Errors;

/// <summary>
/// Finds the proto descriptor of any enum generated from proto/pan/**, so an error can carry the seed's
/// enum name and value name (for example <c>ErrLogin.CODE_INVALID</c>) next to its number (1003).
/// </summary>
public static class SeedEnums
{
    private static readonly FrozenDictionary<Type, EnumDescriptor> ByClrType = Build();

    /// <summary>All generated file descriptors of the Pan contract.</summary>
    public static IReadOnlyList<FileDescriptor> Files { get; } = LoadFiles();

    public static EnumDescriptor Describe(Type enumType) =>
        ByClrType.TryGetValue(enumType, out var d)
            ? d
            : throw new ArgumentException($"{enumType} is not an enum of the Pan contract.", nameof(enumType));

    /// <summary>
    /// The error reason clients match on: the enum's containing message path (without package) and the
    /// value's proto name, e.g. <c>ErrLogin.CODE_INVALID</c> or <c>AuthResetUpdateResponse.ErrNewPasswordRule</c>.
    /// </summary>
    public static string Reason(EnumDescriptor descriptor, EnumValueDescriptor value)
    {
        var owner = descriptor.ContainingType is { } type
            ? type.FullName[(type.File.Package.Length + 1)..]
            : descriptor.Name;
        return $"{owner}.{value.Name}";
    }

    private static List<FileDescriptor> LoadFiles()
    {
        var assembly = typeof(Pan.General.Member.MemberServiceV2).Assembly;
        return assembly.GetTypes()
            .Where(t => t.IsAbstract && t.IsSealed && t.Name.EndsWith("Reflection", StringComparison.Ordinal))
            .Select(t => t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null))
            .OfType<FileDescriptor>()
            .Where(f => f.Package.StartsWith("pan.", StringComparison.Ordinal))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
    }

    private static FrozenDictionary<Type, EnumDescriptor> Build()
    {
        var map = new Dictionary<Type, EnumDescriptor>();
        foreach (var file in LoadFiles())
        {
            foreach (var e in file.EnumTypes)
            {
                map[e.ClrType] = e;
            }

            foreach (var m in file.MessageTypes)
            {
                AddNested(m, map);
            }
        }

        return map.ToFrozenDictionary();
    }

    private static void AddNested(MessageDescriptor message, Dictionary<Type, EnumDescriptor> map)
    {
        foreach (var e in message.EnumTypes)
        {
            map[e.ClrType] = e;
        }

        foreach (var nested in message.NestedTypes)
        {
            AddNested(nested, map);
        }
    }
}
