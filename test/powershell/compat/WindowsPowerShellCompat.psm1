# The Windows PowerShell 5.1 compatibility check of the module in powershell/. Runs under pwsh 7 (whose parser knows
# the newer syntax) and walks the syntax tree of every file:
# - syntax only PowerShell 7 has, automatic variables 5.1 lacks, -Encoding values 5.1 lacks, non-ASCII without BOM;
# - commands and their parameters (named, abbreviated, splatted from a hashtable literal, aliases resolved) against the
#   signature tables in signatures/*.json (written from Microsoft's help pages, one file per module, each command
#   naming its page) and against the module's own functions;
# - .NET types, static members, constructors (with their arity) and the instance members of variables whose type is
#   known, against Microsoft's reference assemblies: .NET Framework 4.6.2 (Windows Server 2016) and PowerShell
#   Standard 5.1, read as metadata with System.Reflection.MetadataLoadContext (all three restored from NuGet by
#   test/powershell/pester.proj).
Set-StrictMode -Version 1.0

# Common parameters of Windows PowerShell 5.1 advanced functions and cmdlets, with their aliases
# (about_CommonParameters, 5.1). ProgressAction is PowerShell 7.4's and is not here.
$script:CommonParameters = [ordered]@{
    Verbose = @('vb'); Debug = @('db'); ErrorAction = @('ea'); WarningAction = @('wa'); InformationAction = @('infa')
    ErrorVariable = @('ev'); WarningVariable = @('wv'); InformationVariable = @('iv'); OutVariable = @('ov')
    OutBuffer = @('ob'); PipelineVariable = @('pv')
}

# Commands whose -Encoding takes a FileSystemCmdletProviderEncoding in 5.1 (no utf8NoBOM, utf8BOM, ansi).
$script:EncodingCommands = @('Get-Content', 'Set-Content', 'Add-Content', 'Out-File', 'Export-Csv', 'Import-Csv', 'Select-String', 'Export-Clixml', 'Send-MailMessage')
$script:NewEncodings = @('utf8NoBOM', 'utf8BOM', 'ansi')

# Automatic variables that are $null in 5.1.
$script:NewVariables = @('IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR', 'PSStyle')

# Members PowerShell gives every object (intrinsic members), never looked up on the .NET type.
$script:IntrinsicMembers = @('Count', 'Length', 'ForEach', 'Where', 'PSObject', 'PSBase', 'PSAdapted', 'PSExtended', 'PSTypeNames')

$script:Signatures = $null
$script:Reference = $null

function New-CompatViolation {
    param([string] $File, $Extent, [string] $Rule, [string] $Message)
    [pscustomobject]@{
        File    = $File
        Line    = $Extent.StartLineNumber
        Column  = $Extent.StartColumnNumber
        Rule    = $Rule
        Message = $Message
        Text    = ($Extent.Text -split "`r?`n")[0]
    }
}

function New-CompatStats {
    [ordered]@{ Commands = 0; Parameters = 0; Types = 0; StaticMembers = 0; Constructors = 0; InstanceMembers = 0; UnresolvedSplats = 0 }
}

# ---------------------------------------------------------------------------------------------------------------
# Signature tables

function Get-CompatSignatures {
    <# Every signatures/*.json: command name -> @{ Module; Page; Parameters (name -> aliases) }, alias -> command, and
    the .NET types the modules bring (a snap-in's types are not in the reference assemblies). #>
    param([string] $Folder = (Join-Path $PSScriptRoot 'signatures'))
    if ($null -ne $script:Signatures -and $script:Signatures.Folder -eq $Folder) { return $script:Signatures }
    $commands = @{}
    $aliases = @{}
    $types = @{}
    $files = @(Get-ChildItem -LiteralPath $Folder -Filter '*.json' | Sort-Object Name)
    foreach ($file in $files) {
        $table = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($file.FullName)) -AsHashtable
        foreach ($name in $table.commands.Keys) {
            $entry = $table.commands[$name]
            $commands[$name.ToLowerInvariant()] = @{ Name = $name; Module = $table.module; Page = $entry.page; Parameters = $entry.parameters; Common = ($entry.common -ne $false) }
            foreach ($alias in @($entry.aliases)) { if ($alias) { $aliases[$alias.ToLowerInvariant()] = $name } }
        }
        foreach ($type in @($table.types)) { if ($type) { $types[$type.ToLowerInvariant()] = $table.module } }
    }
    $script:Signatures = @{ Folder = $Folder; Files = $files.Count; Commands = $commands; Aliases = $aliases; Types = $types }
    return $script:Signatures
}

# The module's own functions: name -> parameters (with [Alias()] names) and whether they take common parameters.
function Get-CompatFunctionTable {
    param([object[]] $Asts)
    $functions = @{}
    foreach ($ast in $Asts) {
        foreach ($function in $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $true)) {
            $parameters = @{}
            $paramBlock = $function.Body.ParamBlock
            $list = @()
            if ($null -ne $paramBlock) { $list = @($paramBlock.Parameters) } elseif ($null -ne $function.Parameters) { $list = @($function.Parameters) }
            $advanced = $false
            $shouldProcess = $false
            if ($null -ne $paramBlock) {
                foreach ($attribute in $paramBlock.Attributes) {
                    if ($attribute.TypeName.Name -eq 'CmdletBinding') {
                        $advanced = $true
                        foreach ($argument in $attribute.NamedArguments) { if ($argument.ArgumentName -eq 'SupportsShouldProcess') { $shouldProcess = ($argument.ExpressionOmitted -or $argument.Argument.Extent.Text -ne '$false') } }
                    }
                }
            }
            foreach ($parameter in $list) {
                $names = New-Object System.Collections.ArrayList
                foreach ($attribute in $parameter.Attributes) {
                    if ($attribute -is [System.Management.Automation.Language.AttributeAst]) {
                        if ($attribute.TypeName.Name -eq 'Parameter') { $advanced = $true }
                        if ($attribute.TypeName.Name -eq 'Alias') { foreach ($value in $attribute.PositionalArguments) { [void]$names.Add($value.Value) } }
                    }
                }
                $parameters[$parameter.Name.VariablePath.UserPath] = @($names)
            }
            if ($shouldProcess) { $parameters['WhatIf'] = @('wi'); $parameters['Confirm'] = @('cf') }
            $functions[$function.Name.ToLowerInvariant()] = @{ Name = $function.Name; Module = '(this module)'; Page = $null; Parameters = $parameters; Common = $advanced }
        }
    }
    return $functions
}

# The parameter a name used on the command line means: exact name or alias, else an unambiguous prefix.
# Returns @{ Name } or @{ Ambiguous = @(...) } or $null.
function Resolve-CompatParameter {
    param([hashtable] $Signature, [string] $Used)
    $all = @{}
    foreach ($name in $Signature.Parameters.Keys) {
        $all[$name] = $name
        foreach ($alias in @($Signature.Parameters[$name])) { if ($alias) { $all[$alias] = $name } }
    }
    if ($Signature.Common) {
        foreach ($name in $script:CommonParameters.Keys) {
            $all[$name] = $name
            foreach ($alias in $script:CommonParameters[$name]) { $all[$alias] = $name }
        }
    }
    foreach ($key in $all.Keys) { if ($key -ieq $Used) { return @{ Name = $all[$key] } } }
    $matched = @($all.Keys | Where-Object { $_.StartsWith($Used, [System.StringComparison]::OrdinalIgnoreCase) } | ForEach-Object { $all[$_] } | Select-Object -Unique)
    if ($matched.Count -eq 1) { return @{ Name = $matched[0] } }
    if ($matched.Count -gt 1) { return @{ Ambiguous = $matched } }
    return $null
}

# ---------------------------------------------------------------------------------------------------------------
# Reference assemblies

function Initialize-CompatReference {
    <# Loads the reference assemblies as metadata. -PackagesRoot: where pester.proj restored the NuGet packages. #>
    param([string] $PackagesRoot = (Join-Path $PSScriptRoot '../obj/packages'))
    if ($null -ne $script:Reference) { return $script:Reference }
    $root = (Resolve-Path -LiteralPath $PackagesRoot).Path
    $framework = @(Get-ChildItem -Path (Join-Path $root 'microsoft.netframework.referenceassemblies.net462/*/build/.NETFramework/v4.6.2') -Directory)
    $standard = @(Get-ChildItem -Path (Join-Path $root 'powershellstandard.library/5.1.*/lib/net452/System.Management.Automation.dll') -File)
    $loader = @(Get-ChildItem -Path (Join-Path $root 'system.reflection.metadataloadcontext/*/lib/net8.0/System.Reflection.MetadataLoadContext.dll') -File)
    if ($framework.Count -eq 0 -or $standard.Count -eq 0 -or $loader.Count -eq 0) {
        throw "the reference assemblies are not restored under ${root}: run dotnet restore test/powershell/pester.proj"
    }
    if (-not ('System.Reflection.MetadataLoadContext' -as [type])) { Add-Type -Path $loader[0].FullName }
    $main = @(Get-ChildItem -LiteralPath $framework[0].FullName -Filter '*.dll' -File)
    $facades = @(Get-ChildItem -LiteralPath (Join-Path $framework[0].FullName 'Facades') -Filter '*.dll' -File)
    $paths = [string[]](@($main.FullName) + @($facades.FullName) + @($standard[0].FullName))
    $resolver = New-Object System.Reflection.PathAssemblyResolver -ArgumentList (, $paths)
    $context = New-Object System.Reflection.MetadataLoadContext -ArgumentList @($resolver, 'mscorlib')
    $assemblies = New-Object System.Collections.ArrayList
    foreach ($path in @($main.FullName) + @($standard[0].FullName)) {
        try { [void]$assemblies.Add($context.LoadFromAssemblyPath($path)) } catch { Write-Verbose "skipped $path" }
    }
    # PowerShell's type accelerators ([string], [hashtable], [pscustomobject]...) by the full name they stand for;
    # one that names a type 5.1 lacks ([semver]) is then not found in the reference assemblies.
    $accelerators = @{}
    $table = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')::Get
    foreach ($key in $table.Keys) { $accelerators[$key.ToLowerInvariant()] = $table[$key].FullName }
    $script:Reference = @{
        Context      = $context
        Assemblies   = $assemblies.ToArray()
        Accelerators = $accelerators
        Cache        = @{}
        Index        = $null
        Framework    = '.NET Framework 4.6.2 reference assemblies (Microsoft.NETFramework.ReferenceAssemblies.net462 ' + $framework[0].Parent.Parent.Parent.Name + ')'
        Standard     = 'PowerShellStandard.Library ' + $standard[0].Directory.Parent.Parent.Name
    }
    return $script:Reference
}

function Find-CompatReferenceType {
    param([string] $FullName)
    $reference = $script:Reference
    $key = $FullName.ToLowerInvariant()
    if ($reference.Cache.ContainsKey($key)) { return $reference.Cache[$key] }
    $found = $null
    foreach ($assembly in $reference.Assemblies) {
        $type = $null
        try { $type = $assembly.GetType($FullName, $false, $false) } catch { $type = $null }
        if ($null -ne $type) { $found = $type; break }
    }
    if ($null -eq $found) {
        # PowerShell type names are case-insensitive; MetadataLoadContext only matches exactly: an index of every
        # public type by its lower-case full name, built on the first miss.
        if ($null -eq $reference.Index) {
            $index = @{}
            foreach ($assembly in $reference.Assemblies) {
                $types = @()
                try { $types = $assembly.GetTypes() } catch [System.Reflection.ReflectionTypeLoadException] { $types = @($_.Exception.Types | Where-Object { $null -ne $_ }) }
                foreach ($type in $types) {
                    if (-not ($type.IsPublic -or $type.IsNestedPublic)) { continue }
                    $name = $type.FullName.ToLowerInvariant()
                    if (-not $index.ContainsKey($name)) { $index[$name] = $type }
                }
            }
            $reference.Index = $index
        }
        if ($reference.Index.ContainsKey($key)) { $found = $reference.Index[$key] }
    }
    $reference.Cache[$key] = $found
    return $found
}

# A type name as PowerShell resolves it ([Name], [System.Name], accelerators, generics, arrays) -> the reference
# type, 'external' (a type a signature table's module brings), or $null (not in Windows PowerShell 5.1).
function Resolve-CompatTypeName {
    param($TypeName)
    if ($TypeName -is [System.Management.Automation.Language.ArrayTypeName]) { return Resolve-CompatTypeName $TypeName.ElementType }
    if ($TypeName -is [System.Management.Automation.Language.GenericTypeName]) {
        $definition = $TypeName.TypeName.FullName + '`' + $TypeName.GenericArguments.Count
        foreach ($argument in $TypeName.GenericArguments) { if ($null -eq (Resolve-CompatTypeName $argument)) { return $null } }
        foreach ($candidate in @($definition, ('System.' + $definition))) {
            $type = Find-CompatReferenceType $candidate
            if ($null -ne $type) { return $type }
        }
        return $null
    }
    $name = [string]$TypeName.FullName
    return Resolve-CompatTypeString $name
}

function Resolve-CompatTypeString {
    param([string] $Name)
    $name = $Name.Trim()
    if ($name.EndsWith('[]')) { $name = $name.Substring(0, $name.Length - 2) }
    if ($name.Contains('[')) {
        # A generic type name in a string (New-Object 'List[string]'): read as PowerShell reads it.
        $parsed = [System.Management.Automation.Language.Parser]::ParseInput('[' + $name + ']', [ref]$null, [ref]$null)
        $typeExpression = $parsed.Find({ param($n) $n -is [System.Management.Automation.Language.TypeExpressionAst] }, $true)
        if ($null -ne $typeExpression) { return Resolve-CompatTypeName $typeExpression.TypeName }
    }
    $lower = $name.ToLowerInvariant()
    if ($lower -eq 'ordered') { return Find-CompatReferenceType 'System.Collections.Specialized.OrderedDictionary' }
    $signatures = Get-CompatSignatures
    if ($signatures.Types.ContainsKey($lower)) { return 'external' }
    $candidates = @($name, ('System.' + $name))
    if ($script:Reference.Accelerators.ContainsKey($lower)) { $candidates = @($script:Reference.Accelerators[$lower]) + $candidates }
    foreach ($candidate in $candidates) {
        $type = Find-CompatReferenceType $candidate
        if ($null -ne $type) { return $type }
        # Attributes: [CmdletBinding()] is CmdletBindingAttribute.
        $type = Find-CompatReferenceType ($candidate + 'Attribute')
        if ($null -ne $type) { return $type }
    }
    return $null
}

function Get-CompatTypeChain {
    <# The type, its base types and interfaces (interfaces inherit no members from System.Object in metadata). #>
    param($Type)
    $chain = New-Object System.Collections.ArrayList
    $current = $Type
    while ($null -ne $current) { [void]$chain.Add($current); $current = $current.BaseType }
    foreach ($interface in $Type.GetInterfaces()) { [void]$chain.Add($interface) }
    if ($Type.IsInterface) { $object = Find-CompatReferenceType 'System.Object'; if ($object) { [void]$chain.Add($object) } }
    return $chain.ToArray()
}

function Test-CompatDictionary {
    param($Type)
    foreach ($item in Get-CompatTypeChain $Type) {
        if ($item.FullName -eq 'System.Collections.IDictionary') { return $true }
        if ($item.IsGenericType -and $item.GetGenericTypeDefinition().FullName -eq 'System.Collections.Generic.IDictionary`2') { return $true }
    }
    return $false
}

# Methods with this name callable with $Count arguments (optional parameters and params arrays counted).
function Get-CompatCallable {
    param($Type, [string] $Name, [int] $Count, [bool] $Static, [object[]] $Arguments = @())
    $flags = [System.Reflection.BindingFlags]'Public, IgnoreCase'
    if ($Static) { $flags = $flags -bor [System.Reflection.BindingFlags]'Static, FlattenHierarchy' } else { $flags = $flags -bor [System.Reflection.BindingFlags]'Instance' }
    $found = New-Object System.Collections.ArrayList
    $types = @($Type)
    if (-not $Static) { $types = Get-CompatTypeChain $Type }
    foreach ($item in $types) {
        $methods = @()
        if ($Name -eq '.ctor') { $methods = @($item.GetConstructors()) } else { $methods = @($item.GetMethods($flags) | Where-Object { $_.Name -ieq $Name }) }
        foreach ($method in $methods) {
            $parameters = @($method.GetParameters())
            $required = @($parameters | Where-Object { -not $_.IsOptional }).Count
            $max = $parameters.Count
            if ($parameters.Count -gt 0) {
                $last = $parameters[-1]
                foreach ($data in $last.GetCustomAttributesData()) { if ($data.AttributeType.FullName -eq 'System.ParamArrayAttribute') { $max = [int]::MaxValue; $required = [Math]::Min($required, $parameters.Count - 1) } }
            }
            if ($Count -lt $required -or $Count -gt $max) { continue }
            # A number literal where the only overload of that arity takes a string: PowerShell would convert it and
            # call something else (RSA.Create(2048) is RSA.Create("2048") on .NET Framework 4.6.2, which returns null).
            $fits = $true
            for ($i = 0; $i -lt @($Arguments).Count -and $i -lt $parameters.Count; $i++) {
                $argument = @($Arguments)[$i]
                if ($argument -is [System.Management.Automation.Language.ConstantExpressionAst] -and -not ($argument -is [System.Management.Automation.Language.StringConstantExpressionAst]) -and $argument.Value -is [int] -and $parameters[$i].ParameterType.FullName -eq 'System.String') { $fits = $false }
            }
            if ($fits) { [void]$found.Add($method) }
        }
        if ($Name -eq '.ctor') { break }
    }
    return $found.ToArray()
}

function Find-CompatMember {
    <# A property, field or event (not a method) by name; returns its type or $true when it has none, $null when absent. #>
    param($Type, [string] $Name, [bool] $Static)
    $flags = [System.Reflection.BindingFlags]'Public, IgnoreCase'
    if ($Static) { $flags = $flags -bor [System.Reflection.BindingFlags]'Static, FlattenHierarchy' } else { $flags = $flags -bor [System.Reflection.BindingFlags]'Instance' }
    $types = @($Type)
    if (-not $Static) { $types = Get-CompatTypeChain $Type }
    foreach ($item in $types) {
        foreach ($property in $item.GetProperties($flags)) { if ($property.Name -ieq $Name) { return $property.PropertyType } }
        foreach ($field in $item.GetFields($flags)) { if ($field.Name -ieq $Name) { return $field.FieldType } }
        foreach ($event in $item.GetEvents($flags)) { if ($event.Name -ieq $Name) { return $true } }
        # Parameterized properties (indexers) and methods used without () are members too.
        if (@($item.GetMethods($flags) | Where-Object { $_.Name -ieq $Name }).Count -gt 0) { return $true }
    }
    return $null
}

# ---------------------------------------------------------------------------------------------------------------
# Per-scope facts: variable types and hashtable literals (for splatting)

function Get-CompatScope {
    param($Node)
    $current = $Node.Parent
    while ($null -ne $current) {
        if ($current -is [System.Management.Automation.Language.FunctionDefinitionAst]) { return $current }
        if ($null -eq $current.Parent) { return $current }
        $current = $current.Parent
    }
    return $Node
}

function Get-CompatAssignedVariable {
    param($Left)
    if ($Left -is [System.Management.Automation.Language.ConvertExpressionAst]) { $Left = $Left.Child }
    if ($Left -is [System.Management.Automation.Language.VariableExpressionAst]) { return $Left.VariablePath.UserPath }
    return $null
}

function Get-CompatPipelineExpression {
    param($Statement)
    if ($Statement -is [System.Management.Automation.Language.PipelineAst] -and $Statement.PipelineElements.Count -eq 1) {
        $element = $Statement.PipelineElements[0]
        if ($element -is [System.Management.Automation.Language.CommandExpressionAst]) { return $element.Expression }
        return $element
    }
    if ($Statement -is [System.Management.Automation.Language.CommandExpressionAst]) { return $Statement.Expression }
    return $null
}

function Get-CompatScopeFacts {
    param($Scope, [hashtable] $Cache)
    $key = $Scope.Extent.StartOffset.ToString() + ':' + $Scope.Extent.EndOffset
    if ($Cache.ContainsKey($key)) { return $Cache[$key] }
    $facts = @{ Types = @{}; Hashtables = @{} }
    $Cache[$key] = $facts
    $inScope = { param($node) (Get-CompatScope $node) -eq $Scope }
    # Typed parameters.
    $parameters = @()
    if ($Scope -is [System.Management.Automation.Language.FunctionDefinitionAst]) {
        if ($Scope.Body.ParamBlock) { $parameters = @($Scope.Body.ParamBlock.Parameters) } elseif ($Scope.Parameters) { $parameters = @($Scope.Parameters) }
    } elseif ($Scope -is [System.Management.Automation.Language.ScriptBlockAst] -and $Scope.ParamBlock) {
        $parameters = @($Scope.ParamBlock.Parameters)
    }
    foreach ($parameter in $parameters) {
        foreach ($attribute in $parameter.Attributes) {
            if ($attribute -is [System.Management.Automation.Language.TypeConstraintAst]) {
                $type = Resolve-CompatTypeName $attribute.TypeName
                if ($type -and $type -ne 'external' -and -not $attribute.TypeName.IsArray) { Set-CompatVariableType $facts $parameter.Name.VariablePath.UserPath $type }
            }
        }
    }
    foreach ($assignment in $Scope.FindAll({ param($n) $n -is [System.Management.Automation.Language.AssignmentStatementAst] }, $true)) {
        if (-not (& $inScope $assignment)) { continue }
        $left = $assignment.Left
        # $h['Key'] = ... and $h.Key = ... add keys to a hashtable literal.
        if ($left -is [System.Management.Automation.Language.IndexExpressionAst] -and $left.Target -is [System.Management.Automation.Language.VariableExpressionAst]) {
            $name = $left.Target.VariablePath.UserPath
            if ($facts.Hashtables.ContainsKey($name) -and $null -ne $facts.Hashtables[$name]) {
                if ($left.Index -is [System.Management.Automation.Language.StringConstantExpressionAst]) { [void]$facts.Hashtables[$name].Add($left.Index.Value) } else { $facts.Hashtables[$name] = $null }
            }
            continue
        }
        if ($left -is [System.Management.Automation.Language.MemberExpressionAst] -and $left.Expression -is [System.Management.Automation.Language.VariableExpressionAst]) {
            $name = $left.Expression.VariablePath.UserPath
            if ($facts.Hashtables.ContainsKey($name) -and $null -ne $facts.Hashtables[$name] -and $left.Member -is [System.Management.Automation.Language.StringConstantExpressionAst]) { [void]$facts.Hashtables[$name].Add($left.Member.Value) }
            continue
        }
        $name = Get-CompatAssignedVariable $left
        if (-not $name) { continue }
        $right = Get-CompatPipelineExpression $assignment.Right
        if ($right -is [System.Management.Automation.Language.HashtableAst]) {
            $keys = New-Object System.Collections.ArrayList
            $constant = $true
            foreach ($pair in $right.KeyValuePairs) { if ($pair.Item1 -is [System.Management.Automation.Language.StringConstantExpressionAst]) { [void]$keys.Add($pair.Item1.Value) } else { $constant = $false } }
            if ($facts.Hashtables.ContainsKey($name) -or -not $constant) { $facts.Hashtables[$name] = $null } else { $facts.Hashtables[$name] = $keys }
        } elseif ($facts.Hashtables.ContainsKey($name)) {
            $facts.Hashtables[$name] = $null
        }
        $type = $null
        if ($left -is [System.Management.Automation.Language.ConvertExpressionAst]) { $type = Resolve-CompatTypeName $left.Type.TypeName }
        elseif ($null -ne $right) { $type = Get-CompatExpressionType -Expression $right -Facts $null }
        if ($type -eq 'external') { $type = $null }
        Set-CompatVariableType $facts $name $type
    }
    return $facts
}

function Set-CompatVariableType {
    param([hashtable] $Facts, [string] $Name, $Type)
    # A variable assigned values of different (or unknown) types has no known type.
    if ($Facts.Types.ContainsKey($Name)) {
        $known = $Facts.Types[$Name]
        if ($null -eq $known -or $null -eq $Type -or $known.FullName -ne $Type.FullName) { $Facts.Types[$Name] = $null }
        return
    }
    $Facts.Types[$Name] = $Type
}

function Get-CompatNewObjectType {
    param($Command)
    if ($Command.GetCommandName() -ne 'New-Object') { return $null }
    $elements = $Command.CommandElements
    for ($i = 1; $i -lt $elements.Count; $i++) {
        $element = $elements[$i]
        if ($element -is [System.Management.Automation.Language.CommandParameterAst]) {
            if ('TypeName'.StartsWith($element.ParameterName, [System.StringComparison]::OrdinalIgnoreCase) -and $element.ParameterName.Length -ge 1) {
                $value = $element.Argument
                if ($null -eq $value -and ($i + 1) -lt $elements.Count) { $value = $elements[$i + 1] }
                if ($value -is [System.Management.Automation.Language.StringConstantExpressionAst]) { return $value.Value }
                return $null
            }
            if ('ComObject'.StartsWith($element.ParameterName, [System.StringComparison]::OrdinalIgnoreCase)) { return $null }
            if ($null -eq $element.Argument) { $i++ }
            continue
        }
        if ($element -is [System.Management.Automation.Language.StringConstantExpressionAst]) { return $element.Value }
        return $null
    }
    return $null
}

# The .NET type an expression has when it can be told from the code (casts, New-Object, ::new, static calls,
# typed variables, members of those), else $null.
function Get-CompatExpressionType {
    param($Expression, $Facts)
    if ($null -eq $Expression) { return $null }
    if ($Expression -is [System.Management.Automation.Language.ParenExpressionAst]) { return Get-CompatExpressionType (Get-CompatPipelineExpression $Expression.Pipeline) $Facts }
    if ($Expression -is [System.Management.Automation.Language.ConvertExpressionAst]) {
        if ($Expression.Type.TypeName.IsArray) { return $null }
        $type = Resolve-CompatTypeName $Expression.Type.TypeName
        if ($type -eq 'external') { return $null }
        return $type
    }
    if ($Expression -is [System.Management.Automation.Language.CommandAst]) {
        $name = Get-CompatNewObjectType $Expression
        if ($name) { $type = Resolve-CompatTypeString $name; if ($type -ne 'external') { return $type } }
        return $null
    }
    if ($Expression -is [System.Management.Automation.Language.VariableExpressionAst]) {
        if ($null -eq $Facts) { return $null }
        $name = $Expression.VariablePath.UserPath
        if ($Facts.Types.ContainsKey($name)) { return $Facts.Types[$name] }
        return $null
    }
    if ($Expression -is [System.Management.Automation.Language.MemberExpressionAst]) {
        if (-not ($Expression.Member -is [System.Management.Automation.Language.StringConstantExpressionAst])) { return $null }
        $member = $Expression.Member.Value
        $owner = $null
        if ($Expression.Static) { $owner = Resolve-CompatTypeName $Expression.Expression.TypeName } else { $owner = Get-CompatExpressionType $Expression.Expression $Facts }
        if ($null -eq $owner -or $owner -eq 'external') { return $null }
        if ($Expression -is [System.Management.Automation.Language.InvokeMemberExpressionAst]) {
            $count = 0
            if ($null -ne $Expression.Arguments) { $count = @($Expression.Arguments).Count }
            if ($member -ieq 'new' -and $Expression.Static) { return $owner }
            $methods = @(Get-CompatCallable -Type $owner -Name $member -Count $count -Static $Expression.Static)
            $returns = @($methods | ForEach-Object { $_.ReturnType.FullName } | Select-Object -Unique)
            if ($returns.Count -eq 1 -and $methods[0].ReturnType.FullName -ne 'System.Void' -and -not $methods[0].ReturnType.ContainsGenericParameters) { return $methods[0].ReturnType }
            return $null
        }
        if (-not $Expression.Static -and (Test-CompatDictionary $owner)) { return $null }
        $result = Find-CompatMember -Type $owner -Name $member -Static $Expression.Static
        if ($result -is [type] -or ($null -ne $result -and $result -ne $true)) {
            if ($result.ContainsGenericParameters) { return $null }
            return $result
        }
        return $null
    }
    return $null
}

# ---------------------------------------------------------------------------------------------------------------
# Checks

function Test-CompatCommand {
    param($Node, [string] $File, [hashtable] $Functions, $Facts, $Stats, $Found)
    $raw = $Node.GetCommandName()
    if (-not $raw -or $Node.InvocationOperator -eq [System.Management.Automation.Language.TokenKind]::Dot -and -not ($raw -match '^[A-Za-z]+-[A-Za-z0-9]+$')) { return }
    if ($raw -match '[\\/]' -or $raw.EndsWith('.ps1')) { return }   # a script path, not a command name
    $signatures = Get-CompatSignatures
    $lower = $raw.ToLowerInvariant()
    $name = $raw
    if ($signatures.Aliases.ContainsKey($lower)) { $name = $signatures.Aliases[$lower]; $lower = $name.ToLowerInvariant() }
    $signature = $null
    if ($Functions.ContainsKey($lower)) { $signature = $Functions[$lower] } elseif ($signatures.Commands.ContainsKey($lower)) { $signature = $signatures.Commands[$lower] }
    $Stats.Commands++
    if ($null -eq $signature) {
        [void]$Found.Add((New-CompatViolation $File $Node.Extent 'unknown-command' "$name is not a Windows PowerShell 5.1 command nor one of the signature tables (test/powershell/compat/signatures); if it exists there, add it from its Microsoft help page"))
        return
    }
    $used = New-Object System.Collections.ArrayList
    $elements = $Node.CommandElements
    for ($i = 1; $i -lt $elements.Count; $i++) {
        $element = $elements[$i]
        if ($element -is [System.Management.Automation.Language.CommandParameterAst]) {
            [void]$used.Add(@{ Name = $element.ParameterName; Extent = $element.Extent; Element = $element; Index = $i })
        } elseif ($element -is [System.Management.Automation.Language.VariableExpressionAst] -and $element.Splatted) {
            $variable = $element.VariablePath.UserPath
            if ($null -ne $Facts -and $Facts.Hashtables.ContainsKey($variable) -and $null -ne $Facts.Hashtables[$variable]) {
                foreach ($key in $Facts.Hashtables[$variable]) { [void]$used.Add(@{ Name = $key; Extent = $element.Extent; Element = $null; Index = $i }) }
            } else {
                $Stats.UnresolvedSplats++
            }
        }
    }
    foreach ($item in $used) {
        $Stats.Parameters++
        $resolved = Resolve-CompatParameter -Signature $signature -Used $item.Name
        $where = 'its help page ' + $signature.Page
        if (-not $signature.Page) { $where = 'its param block' }
        if ($null -eq $resolved) {
            [void]$Found.Add((New-CompatViolation $File $item.Extent 'unknown-parameter' ("{0} has no parameter -{1} in Windows PowerShell 5.1 ({2})" -f $signature.Name, $item.Name, $where)))
            continue
        }
        if ($resolved.ContainsKey('Ambiguous')) {
            [void]$found.Add((New-CompatViolation $File $item.Extent 'ambiguous-parameter' ("-{0} of {1} is ambiguous: {2}" -f $item.Name, $signature.Name, ($resolved.Ambiguous -join ', '))))
            continue
        }
        if ($resolved.Name -eq 'Encoding' -and ($script:EncodingCommands -contains $signature.Name) -and $null -ne $item.Element) {
            $value = $item.Element.Argument
            if ($null -eq $value -and ($item.Index + 1) -lt $elements.Count) { $value = $elements[$item.Index + 1] }
            if ($null -ne $value) {
                $text = $value.Extent.Text.Trim("'", '"')
                if ($script:NewEncodings -contains $text) { [void]$Found.Add((New-CompatViolation $File $value.Extent 'new-encoding' "$($signature.Name) -Encoding $text does not exist in Windows PowerShell 5.1 (use UTF8: with BOM, or [System.IO.File] with a UTF8Encoding)")) }
            }
        }
    }
    # New-Object: the type and a constructor taking that many arguments.
    $typeName = Get-CompatNewObjectType $Node
    if ($typeName) {
        $Stats.Types++
        $type = Resolve-CompatTypeString $typeName
        if ($null -eq $type) {
            [void]$Found.Add((New-CompatViolation $File $Node.Extent 'unknown-type' "type $typeName is not in $($script:Reference.Framework) or $($script:Reference.Standard)"))
            return
        }
        if ($type -eq 'external') { return }
        $count = Get-CompatNewObjectArgumentCount $Node
        if ($null -eq $count) { return }
        $Stats.Constructors++
        if (@(Get-CompatCallable -Type $type -Name '.ctor' -Count $count -Static $false).Count -eq 0) {
            [void]$Found.Add((New-CompatViolation $File $Node.Extent 'unknown-constructor' "$($type.FullName) has no public constructor with $count argument(s) in $($script:Reference.Framework)"))
        }
    }
}

# How many constructor arguments New-Object passes: 0 without -ArgumentList, the elements of a literal list, 1 for
# @(, $x) or a single non-array expression; $null when it cannot be told (a variable may hold an array).
function Get-CompatNewObjectArgumentCount {
    param($Command)
    $elements = $Command.CommandElements
    $value = $null
    $present = $false
    $positional = 0
    for ($i = 1; $i -lt $elements.Count; $i++) {
        $element = $elements[$i]
        if ($element -is [System.Management.Automation.Language.CommandParameterAst]) {
            if ($element.ParameterName.Length -ge 1 -and ('ArgumentList'.StartsWith($element.ParameterName, [System.StringComparison]::OrdinalIgnoreCase) -or $element.ParameterName -ieq 'Args')) {
                $present = $true
                $value = $element.Argument
                if ($null -eq $value -and ($i + 1) -lt $elements.Count) { $value = $elements[$i + 1] }
            } elseif ($null -eq $element.Argument -and -not ('Strict'.StartsWith($element.ParameterName, [System.StringComparison]::OrdinalIgnoreCase))) { $i++ }
            continue
        }
        $positional++
        if ($positional -eq 2) { $present = $true; $value = $element }
    }
    if (-not $present) { return 0 }
    if ($value -is [System.Management.Automation.Language.ArrayLiteralAst]) { return $value.Elements.Count }
    if ($value -is [System.Management.Automation.Language.ArrayExpressionAst]) {
        $statements = @($value.SubExpression.Statements)
        if ($statements.Count -ne 1) { return $null }
        $inner = Get-CompatPipelineExpression $statements[0]
        if ($inner -is [System.Management.Automation.Language.ArrayLiteralAst]) { return $inner.Elements.Count }
        if ($inner -is [System.Management.Automation.Language.UnaryExpressionAst] -and $inner.TokenKind -eq [System.Management.Automation.Language.TokenKind]::Comma) { return 1 }
        if ($inner -is [System.Management.Automation.Language.ConstantExpressionAst]) { return 1 }
        return $null
    }
    if ($value -is [System.Management.Automation.Language.UnaryExpressionAst] -and $value.TokenKind -eq [System.Management.Automation.Language.TokenKind]::Comma) { return 1 }
    if ($value -is [System.Management.Automation.Language.ConstantExpressionAst]) { return 1 }
    return $null
}

function Test-CompatMember {
    param($Node, [string] $File, $Facts, $Stats, $Found)
    if (-not ($Node.Member -is [System.Management.Automation.Language.StringConstantExpressionAst])) { return }
    $member = $Node.Member.Value
    $invoke = $Node -is [System.Management.Automation.Language.InvokeMemberExpressionAst]
    $count = 0
    if ($invoke -and $null -ne $Node.Arguments) { $count = @($Node.Arguments).Count }
    if ($Node.Static) {
        if (-not ($Node.Expression -is [System.Management.Automation.Language.TypeExpressionAst])) { return }
        $type = Resolve-CompatTypeName $Node.Expression.TypeName
        if ($null -eq $type -or $type -eq 'external') { return }   # the type itself is reported by the type check
        if ($invoke -and $member -ieq 'new') {
            $Stats.Constructors++
            if (@(Get-CompatCallable -Type $type -Name '.ctor' -Count $count -Static $false -Arguments @($Node.Arguments)).Count -eq 0) {
                [void]$Found.Add((New-CompatViolation $File $Node.Extent 'unknown-constructor' "$($type.FullName) has no public constructor with $count argument(s) in $($script:Reference.Framework)"))
            }
            return
        }
        $Stats.StaticMembers++
        if ($invoke) {
            if (@(Get-CompatCallable -Type $type -Name $member -Count $count -Static $true -Arguments @($Node.Arguments)).Count -eq 0) {
                [void]$Found.Add((New-CompatViolation $File $Node.Extent 'unknown-member' "[$($type.FullName)]::$member with $count argument(s) is not in $($script:Reference.Framework) / $($script:Reference.Standard)"))
            }
        } elseif ($null -eq (Find-CompatMember -Type $type -Name $member -Static $true)) {
            [void]$Found.Add((New-CompatViolation $File $Node.Extent 'unknown-member' "[$($type.FullName)]::$member is not in $($script:Reference.Framework) / $($script:Reference.Standard)"))
        }
        return
    }
    if ($script:IntrinsicMembers -contains $member) { return }
    $owner = Get-CompatExpressionType -Expression $Node.Expression -Facts $Facts
    if ($null -eq $owner -or $owner -eq 'external') { return }
    if ($owner.FullName -in @('System.Object', 'System.Management.Automation.PSObject', 'System.Xml.XmlNode', 'System.Xml.XmlDocument', 'System.Xml.XmlElement')) { return }
    # PowerShell reads $dictionary.key as a key lookup.
    if (-not $invoke -and (Test-CompatDictionary $owner)) { return }
    $Stats.InstanceMembers++
    if ($invoke) {
        if (@(Get-CompatCallable -Type $owner -Name $member -Count $count -Static $false -Arguments @($Node.Arguments)).Count -eq 0) {
            [void]$Found.Add((New-CompatViolation $File $Node.Extent 'unknown-member' "$($owner.FullName).$member() with $count argument(s) is not in $($script:Reference.Framework) / $($script:Reference.Standard)"))
        }
    } elseif ($null -eq (Find-CompatMember -Type $owner -Name $member -Static $false)) {
        [void]$Found.Add((New-CompatViolation $File $Node.Extent 'unknown-member' "$($owner.FullName).$member is not in $($script:Reference.Framework) / $($script:Reference.Standard)"))
    }
}

function Get-CompatAstViolation {
    param([Parameter(Mandatory = $true)] $Ast, [string] $File, [hashtable] $Functions, $Stats)
    if ($null -eq $Stats) { $Stats = New-CompatStats }
    if ($null -eq $Functions) { $Functions = Get-CompatFunctionTable -Asts @($Ast) }
    [void](Initialize-CompatReference)
    $found = New-Object System.Collections.ArrayList
    $scopes = @{}
    foreach ($node in $Ast.FindAll({ $true }, $true)) {
        $kind = $node.GetType().Name
        switch ($kind) {
            'PipelineChainAst' { [void]$found.Add((New-CompatViolation $File $node.Extent 'pipeline-chain' '&& / || pipeline chain operators need PowerShell 7')) }
            'TernaryExpressionAst' { [void]$found.Add((New-CompatViolation $File $node.Extent 'ternary' 'the ternary operator ?: needs PowerShell 7')) }
            'BinaryExpressionAst' {
                if ([string]$node.Operator -eq 'QuestionQuestion') { [void]$found.Add((New-CompatViolation $File $node.Extent 'null-coalescing' 'the ?? operator needs PowerShell 7')) }
            }
            'AssignmentStatementAst' {
                if ([string]$node.Operator -eq 'QuestionQuestionEquals') { [void]$found.Add((New-CompatViolation $File $node.Extent 'null-coalescing-assignment' 'the ??= operator needs PowerShell 7')) }
            }
            { $_ -eq 'MemberExpressionAst' -or $_ -eq 'InvokeMemberExpressionAst' -or $_ -eq 'IndexExpressionAst' } {
                if ($node.PSObject.Properties['NullConditional'] -and $node.NullConditional) { [void]$found.Add((New-CompatViolation $File $node.Extent 'null-conditional' 'the ?. and ?[] operators need PowerShell 7')) }
                elseif ($_ -ne 'IndexExpressionAst') { Test-CompatMember -Node $node -File $File -Facts (Get-CompatScopeFacts -Scope (Get-CompatScope $node) -Cache $scopes) -Stats $Stats -Found $found }
            }
            'ScriptBlockAst' {
                if ($node.PSObject.Properties['CleanBlock'] -and $null -ne $node.CleanBlock) { [void]$found.Add((New-CompatViolation $File $node.CleanBlock.Extent 'clean-block' 'clean blocks need PowerShell 7.3')) }
            }
            'PipelineAst' {
                if ($node.PSObject.Properties['Background'] -and $node.Background) { [void]$found.Add((New-CompatViolation $File $node.Extent 'background-operator' 'the & background operator needs PowerShell 7')) }
            }
            'VariableExpressionAst' {
                $name = $node.VariablePath.UserPath
                if ($script:NewVariables -contains $name) { [void]$found.Add((New-CompatViolation $File $node.Extent 'new-variable' "`$$name does not exist in Windows PowerShell 5.1")) }
            }
            { $_ -eq 'TypeExpressionAst' -or $_ -eq 'TypeConstraintAst' } {
                $Stats.Types++
                if ($null -eq (Resolve-CompatTypeName $node.TypeName)) { [void]$found.Add((New-CompatViolation $File $node.Extent 'unknown-type' "type $($node.TypeName.FullName) is not in $($script:Reference.Framework) or $($script:Reference.Standard)")) }
            }
            'AttributeAst' {
                $Stats.Types++
                if ($null -eq (Resolve-CompatTypeName $node.TypeName)) { [void]$found.Add((New-CompatViolation $File $node.Extent 'unknown-type' "attribute $($node.TypeName.FullName) is not in $($script:Reference.Standard)")) }
            }
            'CommandAst' {
                Test-CompatCommand -Node $node -File $File -Functions $Functions -Facts (Get-CompatScopeFacts -Scope (Get-CompatScope $node) -Cache $scopes) -Stats $Stats -Found $found
            }
        }
    }
    return $found.ToArray()
}

function Get-CompatParsed {
    param([string] $Text, [string] $Path)
    $tokens = $null
    $errors = $null
    if ($Path) { $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$tokens, [ref]$errors) }
    else { $ast = [System.Management.Automation.Language.Parser]::ParseInput($Text, [ref]$tokens, [ref]$errors) }
    return @{ Ast = $ast; Errors = @($errors | Where-Object { $null -ne $_ }) }
}

function Test-WindowsPowerShellCompatText {
    <# Violations in a piece of script text (the check's own tests feed it small bad snippets). #>
    param([Parameter(Mandatory = $true)] [string] $Text, [string] $Name = '<text>')
    $parsed = Get-CompatParsed -Text $Text
    $violations = New-Object System.Collections.ArrayList
    foreach ($parseError in $parsed.Errors) { [void]$violations.Add((New-CompatViolation $Name $parseError.Extent 'parse-error' $parseError.Message)) }
    foreach ($violation in @(Get-CompatAstViolation -Ast $parsed.Ast -File $Name)) { [void]$violations.Add($violation) }
    return $violations.ToArray()
}

function Test-WindowsPowerShellCompatBytes {
    <# Non-ASCII content without a UTF-8 BOM (Windows PowerShell 5.1 would read the file as ANSI). #>
    param([Parameter(Mandatory = $true)] [byte[]] $Bytes, [string] $Name = '<bytes>')
    $hasBom = $Bytes.Length -ge 3 -and $Bytes[0] -eq 0xEF -and $Bytes[1] -eq 0xBB -and $Bytes[2] -eq 0xBF
    if ($hasBom) { return @() }
    $line = 1
    for ($i = 0; $i -lt $Bytes.Length; $i++) {
        if ($Bytes[$i] -eq 10) { $line++ }
        if ($Bytes[$i] -gt 127) {
            return @([pscustomobject]@{ File = $Name; Line = $line; Column = 0; Rule = 'non-ascii-without-bom'; Message = 'non-ASCII character in a file without a UTF-8 BOM: Windows PowerShell 5.1 reads it as ANSI (save as UTF-8 with BOM, or keep the file ASCII)'; Text = '' })
        }
    }
    return @()
}

function Test-WindowsPowerShellCompatFile {
    param([Parameter(Mandatory = $true)] [string] $Path, [hashtable] $Functions, $Stats)
    $violations = New-Object System.Collections.ArrayList
    foreach ($violation in @(Test-WindowsPowerShellCompatBytes -Bytes ([System.IO.File]::ReadAllBytes($Path)) -Name $Path)) { [void]$violations.Add($violation) }
    $parsed = Get-CompatParsed -Path $Path
    foreach ($parseError in $parsed.Errors) { [void]$violations.Add((New-CompatViolation $Path $parseError.Extent 'parse-error' $parseError.Message)) }
    if ($null -eq $Functions) { $Functions = Get-CompatFunctionTable -Asts @($parsed.Ast) }
    foreach ($violation in @(Get-CompatAstViolation -Ast $parsed.Ast -File $Path -Functions $Functions -Stats $Stats)) { [void]$violations.Add($violation) }
    return $violations.ToArray()
}

function Invoke-WindowsPowerShellCompatGate {
    <# Every .ps1/.psm1/.psd1 under -Path; returns @{ Files; Violations; Stats; Reference; Tables }. The module's own
    functions are known across all its files. #>
    param([Parameter(Mandatory = $true)] [string] $Path)
    [void](Initialize-CompatReference)
    $files = @(Get-ChildItem -LiteralPath $Path -Recurse -File | Where-Object { $_.Extension -in @('.ps1', '.psm1', '.psd1') } | Sort-Object FullName)
    $asts = @($files | ForEach-Object { (Get-CompatParsed -Path $_.FullName).Ast })
    $functions = Get-CompatFunctionTable -Asts $asts
    $stats = New-CompatStats
    $violations = New-Object System.Collections.ArrayList
    foreach ($file in $files) { foreach ($violation in @(Test-WindowsPowerShellCompatFile -Path $file.FullName -Functions $functions -Stats $stats)) { [void]$violations.Add($violation) } }
    $signatures = Get-CompatSignatures
    return [pscustomobject]@{
        Files      = $files.Count
        Violations = $violations.ToArray()
        Stats      = [pscustomobject]$stats
        Reference  = ('{0}, {1}' -f $script:Reference.Framework, $script:Reference.Standard)
        Tables     = ('{0} signature tables, {1} commands' -f $signatures.Files, $signatures.Commands.Count)
    }
}

function Format-WindowsPowerShellCompatSummary {
    param([Parameter(Mandatory = $true)] $Result)
    $s = $Result.Stats
    return ('Windows PowerShell 5.1 check: {0} files, {1} violations; checked {2} command invocations, {3} parameters, {4} type references, {5} static members, {6} constructors, {7} instance members ({8} splats not resolvable statically); against {9} and {10}' -f $Result.Files, @($Result.Violations).Count, $s.Commands, $s.Parameters, $s.Types, $s.StaticMembers, $s.Constructors, $s.InstanceMembers, $s.UnresolvedSplats, $Result.Reference, $Result.Tables)
}

Export-ModuleMember -Function Test-WindowsPowerShellCompatText, Test-WindowsPowerShellCompatBytes, Test-WindowsPowerShellCompatFile, Invoke-WindowsPowerShellCompatGate, Format-WindowsPowerShellCompatSummary, Initialize-CompatReference, Get-CompatSignatures
