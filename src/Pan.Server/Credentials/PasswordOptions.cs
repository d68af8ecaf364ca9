using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Pan.Server.Credentials;

/// <summary><c>Pan:Passwords:Argon2:*</c>: the cost of new password and security-answer hashes.</summary>
public sealed class Argon2Options
{
    public const string Section = "Pan:Passwords:Argon2";

    /// <summary>OWASP's floor for Argon2id with one lane: 19 MiB and 2 passes.</summary>
    public const int MinMemoryKiB = 19456;

    public const int MinIterations = 2;

    /// <summary>Memory per hash in KiB (default 19456 = 19 MiB). At least 19456 unless <see cref="AllowWeakForTests"/>.</summary>
    [Range(8, 2_097_151, ErrorMessage = "Pan:Passwords:Argon2:MemoryKiB must be 8–2097151 (under 2 GiB).")]
    public int MemoryKiB { get; set; } = MinMemoryKiB;

    /// <summary>Passes over the memory (default 2). At least 2 unless <see cref="AllowWeakForTests"/>.</summary>
    [Range(1, 100, ErrorMessage = "Pan:Passwords:Argon2:Iterations must be 1–100.")]
    public int Iterations { get; set; } = MinIterations;

    /// <summary>
    /// Lets tests use parameters below the floor so they run fast. Refused in the Production environment.
    /// Parallelism is not a setting: libsodium's Argon2id always uses one lane (p=1), which the floor assumes.
    /// </summary>
    public bool AllowWeakForTests { get; set; }
}

/// <summary>Fails start-up when the Argon2id cost is below the floor without the explicit test switch, or the switch is on in Production.</summary>
internal sealed class Argon2OptionsValidator(IHostEnvironment environment) : IValidateOptions<Argon2Options>
{
    public ValidateOptionsResult Validate(string? name, Argon2Options options)
    {
        if (options.AllowWeakForTests)
        {
            return environment.IsProduction()
                ? ValidateOptionsResult.Fail("Pan:Passwords:Argon2:AllowWeakForTests must not be set in Production.")
                : ValidateOptionsResult.Success;
        }

        var failures = new List<string>();
        if (options.MemoryKiB < Argon2Options.MinMemoryKiB)
        {
            failures.Add($"Pan:Passwords:Argon2:MemoryKiB must be at least {Argon2Options.MinMemoryKiB} (19 MiB), not {options.MemoryKiB}.");
        }

        if (options.Iterations < Argon2Options.MinIterations)
        {
            failures.Add($"Pan:Passwords:Argon2:Iterations must be at least {Argon2Options.MinIterations}, not {options.Iterations}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
