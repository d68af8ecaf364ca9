using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Pan.Data;

namespace Pan.Migrations.Postgres;

/// <summary>Lets <c>dotnet ef</c> build the model for Postgres without starting the server.</summary>
public sealed class DesignTimeFactory : IDesignTimeDbContextFactory<PanDbContext>
{
    public PanDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<PanDbContext>()
            .UseNpgsql("Host=127.0.0.1;Database=pan_design_time", o => o.MigrationsAssembly(typeof(DesignTimeFactory).Assembly.GetName().Name))
            .Options;
        return new PanDbContext(options);
    }
}
