using System.Text.Json;

namespace Pan.Tests.Omniauth;

/// <summary>The seed's example success body of through_omniauth (001), and a field-by-field comparison with it.</summary>
public static class SeedShape
{
    /// <summary>The seed's example, verbatim apart from its "# optional" comments.</summary>
    public const string Example = """
        {
          "code":200,
          "message":"ok",
          "data": {
            "current_time":"2017-07-14T08:15:46.120Z",
            "account":"don.shieh@gmail.com",
            "name":"謝東霖",
            "email":"don.shieh@gmail.com",
            "uuid":"cdff9f73-5ad0-4a32-b640-156c65bc9311",
            "unconfirmed_email":null,
            "is_developer":false,
            "confirmed":true,
            "bounced":false,
            "complainted":false,
            "created_at":"2017-07-13T08:35:04.558Z",
            "version_email_log_release_time":"2015-05-15T00:00:00.000Z",
            "profile_data":{
              "icon_info":{
                "icon_url":{
                  "100":"https://s3.amazonaws.com/kdanfile-dev/user-icon/defaults/user_icon_1_100.png",
                  "280":"https://s3.amazonaws.com/kdanfile-dev/user-icon/defaults/user_icon_1_280.png"
                },
                "icon_default_id":"icon1"
              },
              "display_name":null
            },
            "access_token": "9ce94b94044b01dba423c7746f1cbb369b344735ff69e01dfc8574246ddc6fc4",
            "token_type": "bearer",
            "expires_in": 172800,
            "refresh_token": "9147a9fd7ecee6c8cada39805429d81f95fda40a9232dd5267b432fb5a3cb581"
          },
          "freeze_at": "2017-07-13T08:35:04.558Z",
          "unconfirmed_email_info": {
            "email": "don.shieh2@gmail.com",
            "bounced": true
          }
        }
        """;

    /// <summary>Top-level fields the seed marks optional.</summary>
    private static readonly string[] OptionalTopLevel = ["freeze_at", "unconfirmed_email_info"];

    /// <summary>
    /// Asserts <paramref name="actual"/> has the seed's fields, in the seed's order, each of the same JSON kind (a
    /// seed null accepts a string, a seed string accepts null only where the seed allows it), and no others.
    /// </summary>
    public static void AssertMatches(JsonElement actual)
    {
        using var seed = JsonDocument.Parse(Example);
        var expected = seed.RootElement.EnumerateObject().Where(p => !OptionalTopLevel.Contains(p.Name) || actual.TryGetProperty(p.Name, out _));
        Compare(expected.ToList(), actual, "$");
    }

    private static void Compare(List<JsonProperty> expected, JsonElement actual, string path)
    {
        Assert.Equal(JsonValueKind.Object, actual.ValueKind);
        Assert.Equal(expected.Select(p => p.Name).ToList(), actual.EnumerateObject().Select(p => p.Name).ToList());
        foreach (var field in expected)
        {
            var value = actual.GetProperty(field.Name);
            var where = path + "." + field.Name;
            switch (field.Value.ValueKind)
            {
                case JsonValueKind.Object:
                    Compare(field.Value.EnumerateObject().ToList(), value, where);
                    break;
                case JsonValueKind.Null:
                    Assert.True(value.ValueKind is JsonValueKind.Null or JsonValueKind.String, $"{where} is {value.ValueKind}");
                    break;
                case JsonValueKind.True or JsonValueKind.False:
                    Assert.True(value.ValueKind is JsonValueKind.True or JsonValueKind.False, $"{where} is {value.ValueKind}");
                    break;
                default:
                    Assert.True(field.Value.ValueKind == value.ValueKind, $"{where} is {value.ValueKind}, the seed has {field.Value.ValueKind}");
                    break;
            }
        }
    }
}
