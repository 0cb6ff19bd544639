# The compatibility gate: what the module in powershell/ may not use because Windows PowerShell 5.1 lacks it.
# Runs under pwsh 7 (whose parser knows the newer syntax) and walks the syntax tree of every file; a file with
# non-ASCII characters must carry a UTF-8 BOM (5.1 reads BOM-less scripts as ANSI).
Set-StrictMode -Version 1.0

# Aliases of the commands checked below (5.1 and 7 aliases alike).
$script:Aliases = @{
    '%' = 'ForEach-Object'; 'foreach' = 'ForEach-Object'; 'gc' = 'Get-Content'; 'cat' = 'Get-Content'; 'type' = 'Get-Content'
    'sc' = 'Set-Content'; 'ac' = 'Add-Content'; 'irm' = 'Invoke-RestMethod'; 'iwr' = 'Invoke-WebRequest'; 'curl' = 'Invoke-WebRequest'
    'wget' = 'Invoke-WebRequest'; 'ipmo' = 'Import-Module'; 'start' = 'Start-Process'; 'saps' = 'Start-Process'; 'ls' = 'Get-ChildItem'
    'dir' = 'Get-ChildItem'; 'gci' = 'Get-ChildItem'; 'select' = 'Select-Object'
}

# Commands that do not exist in Windows PowerShell 5.1.
$script:NewCommands = @('Test-Json', 'Join-String', 'Get-Error', 'ConvertFrom-Markdown', 'Show-Markdown', 'Get-MarkdownOption', 'Set-MarkdownOption', 'Remove-Alias', 'Get-Uptime', 'Remove-Service', 'Get-ExperimentalFeature', 'Enable-ExperimentalFeature', 'Disable-ExperimentalFeature', 'Get-PSSubsystem', 'ConvertTo-CliXml', 'ConvertFrom-CliXml')

# Parameters added after 5.1, per command.
$script:NewParameters = @{
    'ConvertFrom-Json'  = @('AsHashtable', 'Depth', 'NoEnumerate', 'DateKind')
    'ConvertTo-Json'    = @('AsArray', 'EnumsAsStrings', 'EscapeHandling')
    'Get-Content'       = @('AsByteStream')
    'Set-Content'       = @('AsByteStream')
    'Add-Content'       = @('AsByteStream')
    'Invoke-RestMethod' = @('SkipCertificateCheck', 'SkipHttpErrorCheck', 'StatusCodeVariable', 'ResponseHeadersVariable', 'Authentication', 'Token', 'SslProtocol', 'MaximumRetryCount', 'RetryIntervalSec', 'Form', 'Resume', 'SkipHeaderValidation', 'CustomMethod', 'NoProxy', 'AllowUnencryptedAuthentication', 'HttpVersion', 'PreserveAuthorizationOnRedirect', 'AllowInsecureRedirect', 'ConnectionTimeoutSeconds', 'OperationTimeoutSeconds', 'PreserveHttpMethodOnRedirect', 'UnixSocket')
    'Invoke-WebRequest' = @('SkipCertificateCheck', 'SkipHttpErrorCheck', 'ResponseHeadersVariable', 'Authentication', 'Token', 'SslProtocol', 'MaximumRetryCount', 'RetryIntervalSec', 'Form', 'Resume', 'SkipHeaderValidation', 'CustomMethod', 'NoProxy', 'AllowUnencryptedAuthentication', 'HttpVersion', 'PreserveAuthorizationOnRedirect', 'AllowInsecureRedirect', 'ConnectionTimeoutSeconds', 'OperationTimeoutSeconds', 'PreserveHttpMethodOnRedirect', 'UnixSocket')
    'ForEach-Object'    = @('Parallel', 'ThrottleLimit', 'TimeoutSeconds', 'AsJob', 'UseNewRunspace')
    'Import-Module'     = @('UseWindowsPowerShell', 'SkipEditionCheck')
    'Start-Process'     = @('Environment')
    'Get-Date'          = @('AsUTC', 'UnixTimeSeconds')
    'Select-Object'     = @('SkipIndex', 'CaseInsensitive')
    'Get-ChildItem'     = @('FollowSymlink')
}

# Commands whose -Encoding takes a FileSystemCmdletProviderEncoding in 5.1 (no utf8NoBOM, utf8BOM, ansi).
$script:EncodingCommands = @('Get-Content', 'Set-Content', 'Add-Content', 'Out-File', 'Export-Csv', 'Import-Csv', 'Select-String', 'Export-Clixml', 'Send-MailMessage')
$script:NewEncodings = @('utf8NoBOM', 'utf8BOM', 'ansi')

# Automatic variables that are $null in 5.1.
$script:NewVariables = @('IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR', 'PSStyle')

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

function Resolve-CompatCommandName {
    param([string] $Name)
    if (-not $Name) { return $null }
    if ($script:Aliases.ContainsKey($Name.ToLowerInvariant())) { return $script:Aliases[$Name.ToLowerInvariant()] }
    return $Name
}

function Test-CompatParameterMatch {
    # -AsHash matches AsHashtable (PowerShell accepts unambiguous prefixes); prefixes shorter than 3 letters are ignored.
    param([string] $Used, [string] $Forbidden)
    if ($Used -ieq $Forbidden) { return $true }
    return ($Used.Length -ge 3 -and $Forbidden.StartsWith($Used, [System.StringComparison]::OrdinalIgnoreCase))
}

function Get-CompatAstViolation {
    param([Parameter(Mandatory = $true)] $Ast, [string] $File)
    $found = New-Object System.Collections.ArrayList
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
            'CommandAst' {
                $command = Resolve-CompatCommandName $node.GetCommandName()
                if (-not $command) { break }
                if ($script:NewCommands -contains $command) { [void]$found.Add((New-CompatViolation $File $node.Extent 'new-command' "$command does not exist in Windows PowerShell 5.1")) }
                $forbidden = $null
                foreach ($key in $script:NewParameters.Keys) { if ($key -ieq $command) { $forbidden = $script:NewParameters[$key] } }
                $elements = $node.CommandElements
                for ($i = 1; $i -lt $elements.Count; $i++) {
                    $element = $elements[$i]
                    if ($element.GetType().Name -ne 'CommandParameterAst') { continue }
                    $parameter = $element.ParameterName
                    if ($forbidden) {
                        foreach ($name in $forbidden) {
                            if (Test-CompatParameterMatch -Used $parameter -Forbidden $name) { [void]$found.Add((New-CompatViolation $File $element.Extent 'new-parameter' "$command -$name was added after Windows PowerShell 5.1")) }
                        }
                    }
                    if ((Test-CompatParameterMatch -Used $parameter -Forbidden 'Encoding') -and ($script:EncodingCommands -contains $command)) {
                        $value = $element.Argument
                        if ($null -eq $value -and ($i + 1) -lt $elements.Count) { $value = $elements[$i + 1] }
                        if ($null -ne $value) {
                            $text = $value.Extent.Text.Trim("'", '"')
                            if ($script:NewEncodings -contains $text) { [void]$found.Add((New-CompatViolation $File $value.Extent 'new-encoding' "$command -Encoding $text does not exist in Windows PowerShell 5.1 (use UTF8: with BOM, or [System.IO.File] with a UTF8Encoding)")) }
                        }
                    }
                }
            }
        }
    }
    return $found.ToArray()
}

function Test-WindowsPowerShellCompatText {
    <# Violations in a piece of script text (the gate's own tests feed it small bad snippets). #>
    param([Parameter(Mandatory = $true)] [string] $Text, [string] $Name = '<text>')
    $tokens = $null
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseInput($Text, [ref]$tokens, [ref]$errors)
    $violations = New-Object System.Collections.ArrayList
    foreach ($parseError in @($errors)) {
        if ($null -eq $parseError) { continue }
        [void]$violations.Add((New-CompatViolation $Name $parseError.Extent 'parse-error' $parseError.Message))
    }
    foreach ($violation in @(Get-CompatAstViolation -Ast $ast -File $Name)) { [void]$violations.Add($violation) }
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
    param([Parameter(Mandatory = $true)] [string] $Path)
    $violations = New-Object System.Collections.ArrayList
    $bytes = [System.IO.File]::ReadAllBytes($Path)
    foreach ($violation in @(Test-WindowsPowerShellCompatBytes -Bytes $bytes -Name $Path)) { [void]$violations.Add($violation) }
    $tokens = $null
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$tokens, [ref]$errors)
    foreach ($parseError in @($errors)) {
        if ($null -eq $parseError) { continue }
        [void]$violations.Add((New-CompatViolation $Path $parseError.Extent 'parse-error' $parseError.Message))
    }
    foreach ($violation in @(Get-CompatAstViolation -Ast $ast -File $Path)) { [void]$violations.Add($violation) }
    return $violations.ToArray()
}

function Invoke-WindowsPowerShellCompatGate {
    <# Every .ps1/.psm1/.psd1 under -Path; returns @{ Files; Violations }. #>
    param([Parameter(Mandatory = $true)] [string] $Path)
    $files = @(Get-ChildItem -LiteralPath $Path -Recurse -File | Where-Object { $_.Extension -in @('.ps1', '.psm1', '.psd1') } | Sort-Object FullName)
    $violations = New-Object System.Collections.ArrayList
    foreach ($file in $files) { foreach ($violation in @(Test-WindowsPowerShellCompatFile -Path $file.FullName)) { [void]$violations.Add($violation) } }
    return [pscustomobject]@{ Files = $files.Count; Violations = $violations.ToArray() }
}

Export-ModuleMember -Function Test-WindowsPowerShellCompatText, Test-WindowsPowerShellCompatBytes, Test-WindowsPowerShellCompatFile, Invoke-WindowsPowerShellCompatGate
