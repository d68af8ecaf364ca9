namespace Pan.Tests.Keys;

/// <summary>Key-encryption keys for tests (base64 of 32 bytes), fixed so a test can restart a server with the same one.</summary>
public static class TestKeys
{
    public const string Setting = "Pan:Keys:EncryptionKey";

    public const string First = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    public const string Second = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

    public const string Third = "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=";
}
