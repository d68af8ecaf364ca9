using Microsoft.EntityFrameworkCore;
using Pan.Data.Accounts;
using Pan.Data.Members;

namespace Pan.Data;

/// <summary>The one Pan database: accounts (one per phone), members under them, and what hangs off members.</summary>
public sealed class PanDbContext(DbContextOptions<PanDbContext> options) : DbContext(options)
{
    public DbSet<Account> Accounts => Set<Account>();

    public DbSet<Member> Members => Set<Member>();

    /// <summary>Saves, bumping the optimistic-concurrency <c>Version</c> of every changed account and member.</summary>
    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        foreach (var entry in ChangeTracker.Entries())
        {
            if (entry.State == EntityState.Modified && entry.Entity is Account or Member)
            {
                var version = entry.Property(nameof(Account.Version));
                version.CurrentValue = (long)version.OriginalValue! + 1;
            }
        }

        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // Why first: OpenIddict's entity mappings (the OAuth provider's applications, authorizations, scopes, tokens);
        // Pan's own configurations, applied after them, rename their tables (OAuth/OAuthConfigurations.cs).
        modelBuilder.UseOpenIddict();
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(PanDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Why: SQLite has no DateTimeOffset ordering; store instants as UTC ticks-free ISO strings is lossy for
        // comparisons, so every instant is kept as Unix milliseconds (long) on every provider.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToUnixMillisecondsConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToUnixMillisecondsConverter>();
    }
}
