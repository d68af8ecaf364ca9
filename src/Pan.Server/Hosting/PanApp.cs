namespace Pan.Server.Hosting;

/// <summary>Builds the Pan web host. Tests call this too, with their own configuration and services.</summary>
public static class PanApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddPanServices();
        builder.Logging.AddSecretSafeFilters();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapPan();
        return app;
    }
}
