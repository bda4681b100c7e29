// The study's generated models (mlp6.*.cgc.json, and mnist.*.cgc.json on the trained MNIST MLP) behind one interface.
namespace Samples.PlanesStudy.Models;

public sealed partial class DenseInt8 : IStudyModel
{
}

public sealed partial class DensePlanes8 : IStudyModel
{
}

public sealed partial class ProxyK3Int8 : IStudyModel
{
}

public sealed partial class ProxyK2T2 : IStudyModel
{
}

public sealed partial class ProxyK2T5 : IStudyModel
{
}

public sealed partial class ProxyK3T2 : IStudyModel
{
}

public sealed partial class ProxyK3T5 : IStudyModel
{
}

public sealed partial class ProxyK4T2 : IStudyModel
{
}

public sealed partial class ProxyK4T5 : IStudyModel
{
}

public sealed partial class ProxyNone : IStudyModel
{
}

public sealed partial class ExactK2T2 : IStudyModel
{
}

public sealed partial class ExactK2T5 : IStudyModel
{
}

public sealed partial class ExactK3T2 : IStudyModel
{
}

public sealed partial class ExactK3T5 : IStudyModel
{
}

public sealed partial class ExactK4T2 : IStudyModel
{
}

public sealed partial class ExactK4T5 : IStudyModel
{
}

public sealed partial class ExactNone : IStudyModel
{
}

public sealed partial class LowrankK2T2 : IStudyModel
{
}

public sealed partial class LowrankK2T5 : IStudyModel
{
}

public sealed partial class LowrankK3T2 : IStudyModel
{
}

public sealed partial class LowrankK3T5 : IStudyModel
{
}

public sealed partial class LowrankK4T2 : IStudyModel
{
}

public sealed partial class LowrankK4T5 : IStudyModel
{
}

public sealed partial class LowrankNone : IStudyModel
{
}

public sealed partial class DensePlanes4 : IStudyModel
{
}

public sealed partial class DensePlanes2 : IStudyModel
{
}

public sealed partial class ProxyK3T10 : IStudyModel
{
}

public sealed partial class MnistDenseInt8 : IStudyModel
{
}

public sealed partial class MnistProxyK3Int8 : IStudyModel
{
}

public sealed partial class MnistProxyK2T2 : IStudyModel
{
}

public sealed partial class MnistProxyK2T5 : IStudyModel
{
}

public sealed partial class MnistProxyK3T2 : IStudyModel
{
}

public sealed partial class MnistProxyK3T5 : IStudyModel
{
}

public sealed partial class MnistProxyK4T2 : IStudyModel
{
}

public sealed partial class MnistProxyK4T5 : IStudyModel
{
}

public sealed partial class MnistProxyNone : IStudyModel
{
}

public sealed partial class MnistExactK3Int8 : IStudyModel
{
}

public sealed partial class MnistExactK2T2 : IStudyModel
{
}

public sealed partial class MnistExactK2T5 : IStudyModel
{
}

public sealed partial class MnistExactK3T2 : IStudyModel
{
}

public sealed partial class MnistExactK3T5 : IStudyModel
{
}

public sealed partial class MnistExactK4T2 : IStudyModel
{
}

public sealed partial class MnistExactK4T5 : IStudyModel
{
}

public sealed partial class MnistExactNone : IStudyModel
{
}

public sealed partial class MnistLowrankK3Int8 : IStudyModel
{
}

public sealed partial class MnistLowrankK2T2 : IStudyModel
{
}

public sealed partial class MnistLowrankK2T5 : IStudyModel
{
}

public sealed partial class MnistLowrankK3T2 : IStudyModel
{
}

public sealed partial class MnistLowrankK3T5 : IStudyModel
{
}

public sealed partial class MnistLowrankK4T2 : IStudyModel
{
}

public sealed partial class MnistLowrankK4T5 : IStudyModel
{
}

public sealed partial class MnistLowrankNone : IStudyModel
{
}

internal static class StudyModels
{
    public static readonly string[] Names = { "DenseInt8", "DensePlanes8", "DensePlanes4", "DensePlanes2", "ProxyK3Int8", "ProxyK3T10", "ProxyK2T2", "ProxyK2T5", "ProxyK3T2", "ProxyK3T5", "ProxyK4T2", "ProxyK4T5", "ProxyNone", "ExactK2T2", "ExactK2T5", "ExactK3T2", "ExactK3T5", "ExactK4T2", "ExactK4T5", "ExactNone", "LowrankK2T2", "LowrankK2T5", "LowrankK3T2", "LowrankK3T5", "LowrankK4T2", "LowrankK4T5", "LowrankNone" };

    /// <summary>The MNIST MLP variants (784 inputs), dense int8 first.</summary>
    public static readonly string[] MnistNames = { "MnistDenseInt8", "MnistProxyK3Int8", "MnistProxyK2T2", "MnistProxyK2T5", "MnistProxyK3T2", "MnistProxyK3T5", "MnistProxyK4T2", "MnistProxyK4T5", "MnistProxyNone", "MnistExactK3Int8", "MnistExactK2T2", "MnistExactK2T5", "MnistExactK3T2", "MnistExactK3T5", "MnistExactK4T2", "MnistExactK4T5", "MnistExactNone", "MnistLowrankK3Int8", "MnistLowrankK2T2", "MnistLowrankK2T5", "MnistLowrankK3T2", "MnistLowrankK3T5", "MnistLowrankK4T2", "MnistLowrankK4T5", "MnistLowrankNone" };

    public static IStudyModel Create(string name) => name switch
    {
        "DenseInt8" => new DenseInt8(),
        "DensePlanes8" => new DensePlanes8(),
        "DensePlanes4" => new DensePlanes4(),
        "DensePlanes2" => new DensePlanes2(),
        "ProxyK3T10" => new ProxyK3T10(),
        "ProxyK3Int8" => new ProxyK3Int8(),
        "ProxyK2T2" => new ProxyK2T2(),
        "ProxyK2T5" => new ProxyK2T5(),
        "ProxyK3T2" => new ProxyK3T2(),
        "ProxyK3T5" => new ProxyK3T5(),
        "ProxyK4T2" => new ProxyK4T2(),
        "ProxyK4T5" => new ProxyK4T5(),
        "ProxyNone" => new ProxyNone(),
        "ExactK2T2" => new ExactK2T2(),
        "ExactK2T5" => new ExactK2T5(),
        "ExactK3T2" => new ExactK3T2(),
        "ExactK3T5" => new ExactK3T5(),
        "ExactK4T2" => new ExactK4T2(),
        "ExactK4T5" => new ExactK4T5(),
        "ExactNone" => new ExactNone(),
        "LowrankK2T2" => new LowrankK2T2(),
        "LowrankK2T5" => new LowrankK2T5(),
        "LowrankK3T2" => new LowrankK3T2(),
        "LowrankK3T5" => new LowrankK3T5(),
        "LowrankK4T2" => new LowrankK4T2(),
        "LowrankK4T5" => new LowrankK4T5(),
        "LowrankNone" => new LowrankNone(),
        "MnistDenseInt8" => new MnistDenseInt8(),
        "MnistProxyK3Int8" => new MnistProxyK3Int8(),
        "MnistProxyK2T2" => new MnistProxyK2T2(),
        "MnistProxyK2T5" => new MnistProxyK2T5(),
        "MnistProxyK3T2" => new MnistProxyK3T2(),
        "MnistProxyK3T5" => new MnistProxyK3T5(),
        "MnistProxyK4T2" => new MnistProxyK4T2(),
        "MnistProxyK4T5" => new MnistProxyK4T5(),
        "MnistProxyNone" => new MnistProxyNone(),
        "MnistExactK3Int8" => new MnistExactK3Int8(),
        "MnistExactK2T2" => new MnistExactK2T2(),
        "MnistExactK2T5" => new MnistExactK2T5(),
        "MnistExactK3T2" => new MnistExactK3T2(),
        "MnistExactK3T5" => new MnistExactK3T5(),
        "MnistExactK4T2" => new MnistExactK4T2(),
        "MnistExactK4T5" => new MnistExactK4T5(),
        "MnistExactNone" => new MnistExactNone(),
        "MnistLowrankK3Int8" => new MnistLowrankK3Int8(),
        "MnistLowrankK2T2" => new MnistLowrankK2T2(),
        "MnistLowrankK2T5" => new MnistLowrankK2T5(),
        "MnistLowrankK3T2" => new MnistLowrankK3T2(),
        "MnistLowrankK3T5" => new MnistLowrankK3T5(),
        "MnistLowrankK4T2" => new MnistLowrankK4T2(),
        "MnistLowrankK4T5" => new MnistLowrankK4T5(),
        "MnistLowrankNone" => new MnistLowrankNone(),
        _ => throw new System.ArgumentException("No model " + name, nameof(name)),
    };
}
