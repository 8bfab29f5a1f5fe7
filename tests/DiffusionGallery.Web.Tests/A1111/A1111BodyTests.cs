using System.Text.Json.Nodes;
using DiffusionGallery.Web.A1111;

namespace DiffusionGallery.Web.Tests.A1111;

public sealed class A1111BodyTests
{
    private static A1111Body Body(string json) => A1111Body.From(JsonNode.Parse(json)!.AsObject());

    [Fact]
    public void ReadsAsPydanticDoes_NullIsAbsent_NumericStringsAccepted_WrongTypesReported()
    {
        var body = Body("""{"steps":"20","cfg_scale":7,"seed":null,"width":512.0,"prompt":5,"batch_size":1.5,"send_images":"false","override_settings":[],"tiling":"maybe"}""");
        Assert.Equal(20, body.Integer("steps"));
        Assert.Equal(7.0, body.Number("cfg_scale"));
        Assert.Null(body.Integer("seed"));
        Assert.Equal(512, body.Integer("width"));
        Assert.Equal("5", body.String("prompt"));
        Assert.Null(body.Integer("batch_size"));
        Assert.False(body.Boolean("send_images"));
        Assert.Null(body.Object("override_settings"));
        Assert.Null(body.Boolean("tiling"));
        Assert.Equal(["type_error.integer", "type_error.dict", "type_error.bool"], body.Errors.Select(e => e.Type));
        Assert.Equal(["body", "batch_size"], body.Errors[0].Loc);
    }

    [Fact]
    public void UnreadActiveFields_SkipsNeutralValues()
    {
        var body = Body("""{"prompt":"x","enable_hr":true,"restore_faces":false,"styles":[],"subseed":-1,"hr_scale":2,"script_name":"","alwayson_scripts":{},"comments":{"a":1}}""");
        body.String("prompt");
        Assert.Equal(["enable_hr", "hr_scale", "comments"], body.UnreadActiveFields());
    }

    [Fact]
    public void InRange_UsesPydanticMessagesAndTypes()
    {
        var body = Body("{}");
        Assert.True(body.InRange("steps", 10, 1, 100));
        Assert.False(body.InRange("steps", 0, 1, 100));
        Assert.False(body.InRange("steps", 101, 1, 100));
        Assert.Equal("ensure this value is greater than or equal to 1", body.Errors[0].Msg);
        Assert.Equal("value_error.number.not_ge", body.Errors[0].Type);
        Assert.Equal("value_error.number.not_le", body.Errors[1].Type);
    }
}
