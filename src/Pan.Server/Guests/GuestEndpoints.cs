using Microsoft.Extensions.Options;
using Pan.Server.Errors;

namespace Pan.Server.Guests;

/// <summary>
/// The apinode user endpoints under <c>{Pan:Guests:BasePath}/admin/user/</c>: createTemp, convertTemp,
/// activate/{actCode}, login, logout, accNameOk, and Pan's deleteVerify and delete (<see cref="GuestDeletion"/>), by GET (query) or POST (JSON or form). Every answer is the apinode
/// envelope with HTTP 200; bad input never becomes a 500.
/// </summary>
public static class GuestEndpoints
{
    private static readonly string[] Methods = [HttpMethods.Get, HttpMethods.Post];

    public static IEndpointRouteBuilder MapGuestEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var basePath = endpoints.ServiceProvider.GetRequiredService<IOptions<GuestOptions>>().Value.BasePath;
        var group = endpoints.MapGroup(basePath + "/admin/user");
        group.MapMethods("/activate/{actCode}", Methods, (HttpContext http, string actCode) => HandleAsync(http, "activate", actCode));
        group.MapMethods("/{operation}", Methods, (HttpContext http, string operation) => HandleAsync(http, operation, null));
        group.MapMethods("/{**rest}", Methods, (HttpContext http) => HandleAsync(http, null, null));
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext http, string? operation, string? actCode)
    {
        var services = http.RequestServices;
        var cancellationToken = http.RequestAborted;
        ApinodeResult result;
        try
        {
            var options = services.GetRequiredService<IOptions<GuestOptions>>().Value;
            var request = await ApinodeRequest.ReadAsync(http, options.MaxBodyBytes, cancellationToken);
            result = await DispatchAsync(services, request, operation, actCode, cancellationToken);
        }
        catch (ApinodeException ex)
        {
            result = ex.ToResult();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ErrorInterceptor.IsOutage(ex))
        {
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GuestEndpoints)).LogWarning("apinode {Operation}: a backing service is unavailable ({Error})", operation, ex.GetType().Name);
            result = ApinodeResult.Error(ApinodeCodes.DatabaseError, "Internal (database) error.");
        }
        catch (Exception ex)
        {
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GuestEndpoints)).LogError(ex, "apinode {Operation} failed", operation);
            result = ApinodeResult.Error(ApinodeCodes.InternalError, "Internal error.");
        }

        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.Headers.CacheControl = "no-store";
        await http.Response.WriteAsJsonAsync(result, CancellationToken.None);
    }

    private static async Task<ApinodeResult> DispatchAsync(
        IServiceProvider services, ApinodeRequest request, string? operation, string? actCode, CancellationToken cancellationToken)
    {
        if (operation is null)
        {
            throw new ApinodeException(ApinodeCodes.InvalidEndpoint, "Invalid endpoint format.");
        }

        if (operation == "activate")
        {
            // Why no app headers: the activation link is opened from a mail, by a browser that has none; the code is the credential.
            var uid = await services.GetRequiredService<GuestActivations>().ActivateAsync(actCode ?? request.Text("actCode"), cancellationToken);
            return ApinodeResult.Ok(new { id = uid });
        }

        if (operation is not ("createTemp" or "convertTemp" or "login" or "logout" or "accNameOk" or "deleteVerify" or "delete"))
        {
            throw new ApinodeException(ApinodeCodes.UnknownOperation, "Unable to find the operator specified in the request endpoint.");
        }

        var app = await services.GetRequiredService<GuestApps>().AuthenticateAsync(request, cancellationToken);
        var signIn = services.GetRequiredService<GuestSignIn>();
        switch (operation)
        {
            case "createTemp":
                return await services.GetRequiredService<GuestCreation>().CreateTempAsync(request, app, cancellationToken);
            case "login":
                return await signIn.LoginAsync(request, app, cancellationToken);
            case "accNameOk":
                return await signIn.AccountNameOkAsync(request, app, cancellationToken);
        }

        var caller = await services.GetRequiredService<GuestTokens>().RequireAsync(request, app, cancellationToken);
        return operation switch
        {
            "logout" => await signIn.LogoutAsync(caller, cancellationToken),
            "deleteVerify" => await services.GetRequiredService<GuestDeletion>().VerifyAsync(request, caller, cancellationToken),
            "delete" => await services.GetRequiredService<GuestDeletion>().DeleteAsync(request, caller, cancellationToken),
            _ => await services.GetRequiredService<GuestConversion>().ConvertAsync(request, app, caller, cancellationToken),
        };
    }
}
