using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Pan.Data;

namespace Pan.Migrations.Sqlite;

/// <summary>Lets <c>dotnet ef</c> build the model for Sqlite without starting the server.</summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<PanDbContext>
{
    public PanDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<PanDbContext>()
            .UseSqlite("Data Source=design-time.db", o => o.MigrationsAssembly(typeof(DesignTimeFactory).Assembly.GetName().Name))
            .Options;
        return new PanDbContext(options);
    }
}
