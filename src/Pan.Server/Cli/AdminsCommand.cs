using System.Globalization;
using Pan.Server.Admin;
using Pan.Server.Members;

namespace Pan.Server.Cli;

/// <summary><c>admins</c>: the allow-list of staff Google accounts that may use the admin API, and their roles.</summary>
public static class AdminsCommand
{
    public static readonly string Usage = $"""
        Usage: Pan.Server admins list
               Pan.Server admins add <email> --roles role1,role2     (adds, or replaces the roles of a listed admin)
               Pan.Server admins remove <email>                      (also ends the admin's sessions)
        Roles: {string.Join(", ", AdminRoles.All)} ({AdminRoles.MemberAdmin}: password, email and avatar changes; {AdminRoles.Support}: avatar removal).
        """;

    /// <summary>The options that take a value (<c>--name X</c>); the others are flags or not this command's.</summary>
    public static readonly string[] ValueOptions = ["roles"];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var parsed = CliArguments.Parse(args, ValueOptions);
        if (parsed.Problem is not null)
        {
            return await CliHost.UsageAsync(error, parsed.Problem, Usage);
        }

        var verb = parsed.Positional(0);
        string? email = null;
        if (verb is "add" or "remove")
        {
            email = EmailAddresses.Normalize(parsed.Positional(1));
            if (email is null)
            {
                return await CliHost.UsageAsync(error, $"'{parsed.Positional(1)}' is not an email address.", Usage);
            }
        }

        var (roles, unknown) = AdminRoles.Parse(parsed.Option("roles"));
        return verb switch
        {
            "list" => await CliHost.RunAsync(parsed.Settings, output, error, ListAsync),
            "add" when unknown is not null => await CliHost.UsageAsync(error, $"Unknown role '{unknown}'.", Usage),
            "add" when string.IsNullOrEmpty(roles) => await CliHost.UsageAsync(error, "admins add needs --roles.", Usage),
            "add" => await CliHost.RunAsync(parsed.Settings, output, error, c => AddAsync(c, email!, roles!)),
            "remove" => await CliHost.RunAsync(parsed.Settings, output, error, c => RemoveAsync(c, email!)),
            _ => await CliHost.UsageAsync(error, verb is null ? "admins needs a command." : $"Unknown admins command '{verb}'.", Usage),
        };
    }

    private static async Task<int> ListAsync(CliContext cli)
    {
        await cli.Output.WriteLineAsync($"{"EMAIL",-40} {"ROLES",-24} ADDED");
        foreach (var admin in await cli.Services.GetRequiredService<AdminDirectory>().ListAsync(CancellationToken.None))
        {
            await cli.Output.WriteLineAsync(
                $"{admin.Email,-40} {string.Join(',', admin.Roles),-24} {admin.Created.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}");
        }

        return CliHost.Ok;
    }

    private static async Task<int> AddAsync(CliContext cli, string email, string roles)
    {
        var added = await cli.AuditedAsync("cli.admins.add", "admin:" + AdminDirectory.Key(email), async () =>
        {
            var isNew = await cli.Services.GetRequiredService<AdminDirectory>().AddOrUpdateAsync(email, roles, CancellationToken.None);
            return (isNew, (isNew ? "ok: added with " : "ok: roles set to ") + roles);
        });
        await cli.Output.WriteLineAsync($"{(added ? "Added" : "Updated")} {AdminDirectory.Key(email)} with roles {roles}.");
        return CliHost.Ok;
    }

    private static async Task<int> RemoveAsync(CliContext cli, string email)
    {
        var removed = await cli.AuditedAsync("cli.admins.remove", "admin:" + AdminDirectory.Key(email), async () =>
        {
            var gone = await cli.Services.GetRequiredService<AdminDirectory>().RemoveAsync(email, CancellationToken.None);
            return (gone, gone ? "ok" : "refused: not listed");
        });
        if (!removed)
        {
            await cli.Error.WriteLineAsync($"{AdminDirectory.Key(email)} is not an admin.");
            return CliHost.Failed;
        }

        await cli.Output.WriteLineAsync($"Removed {AdminDirectory.Key(email)}; their admin tokens no longer work.");
        return CliHost.Ok;
    }
}
