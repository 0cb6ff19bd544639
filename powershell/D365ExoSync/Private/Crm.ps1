# Microsoft.Crm.PowerShell snap-in helpers (Windows PowerShell 5.1 only: PowerShell 7 has no snap-ins).

function Import-D365CrmSnapin {
    if (-not (Get-Command -Name 'Add-PSSnapin' -ErrorAction SilentlyContinue)) {
        Stop-D365Step ("this is PowerShell {0} ({1} edition): the Microsoft.Crm.PowerShell snap-in loads only in Windows PowerShell 5.1 (powershell.exe)" -f $PSVersionTable.PSVersion, $PSVersionTable.PSEdition)
    }
    if (Get-PSSnapin -Name 'Microsoft.Crm.PowerShell' -ErrorAction SilentlyContinue) { return 'already loaded' }
    if (-not (Get-PSSnapin -Name 'Microsoft.Crm.PowerShell' -Registered -ErrorAction SilentlyContinue)) {
        Stop-D365Step 'the Microsoft.Crm.PowerShell snap-in is not registered on this server: configure-crm must run on the server with the Deployment Tools role'
    }
    Add-PSSnapin -Name 'Microsoft.Crm.PowerShell'
    return 'loaded'
}

# The CRM cmdlets need a Deployment Administrator: check it before anything else and name the account when not.
function Assert-D365DeploymentAdministrator {
    $identity = Get-D365CurrentIdentityName
    $hint = "add it in Deployment Manager (Deployment Administrators) or with New-CrmDeploymentAdministrator -Name '$identity', or run the pipeline agent as a Deployment Administrator"
    try {
        $administrators = @(Get-CrmDeploymentAdministrator)
    } catch {
        Stop-D365Step ("the account '{0}' cannot read the Deployment Administrators ({1}); the CRM cmdlets need a Deployment Administrator: {2}" -f $identity, $_.Exception.Message, $hint)
    }
    $names = @($administrators | ForEach-Object { [string]$_.Name })
    if (-not ($names -contains $identity)) {
        Stop-D365Step ("the account '{0}' running this step is not a Dynamics 365 Deployment Administrator (administrators: {1}): {2}" -f $identity, ($names -join ', '), $hint)
    }
    return [ordered]@{ account = $identity; deploymentAdministrator = $true }
}

# Get-CrmAdvancedSetting returns an entity whose Attributes hold the value (key/value pairs): select the pair by key.
function Get-D365CrmAdvancedValue {
    param([Parameter(Mandatory = $true)] [string] $EntityName, [Parameter(Mandatory = $true)] [string] $Setting, $Id)
    $query = @{ ConfigurationEntityName = $EntityName; Setting = $Setting }
    if ($Id) { $query['Id'] = $Id }
    $result = Get-CrmAdvancedSetting @query
    if ($null -eq $result) { return $null }
    if ($result.PSObject.Properties['Attributes'] -and $null -ne $result.Attributes) {
        foreach ($pair in $result.Attributes) {
            if ($pair.Key -eq $Setting) { return $pair.Value }
        }
        return $null
    }
    return $result
}

# ServerSettings are written in the entity form Microsoft's own script uses (ConfigureCrmServerSideSync.ps1).
function Set-D365CrmServerSettings {
    param([Parameter(Mandatory = $true)] [hashtable] $Values)
    $entity = New-Object -TypeName 'Microsoft.Xrm.Sdk.Deployment.ConfigurationEntity'
    $entity.LogicalName = 'ServerSettings'
    $entity.Attributes = New-Object -TypeName 'Microsoft.Xrm.Sdk.Deployment.AttributeCollection'
    foreach ($name in ($Values.Keys | Sort-Object)) {
        $pair = New-Object -TypeName 'System.Collections.Generic.KeyValuePair[String,Object]' -ArgumentList @($name, $Values[$name])
        $entity.Attributes.Add($pair)
    }
    Set-CrmAdvancedSetting -Entity $entity
}

function Get-D365CrmS2SCertificates {
    $rows = @(Get-CrmCertificate | Where-Object { [string]$_.CertificateType -eq 'S2STokenIssuer' })
    $found = New-Object System.Collections.ArrayList
    foreach ($row in $rows) {
        $thumbprint = $null
        if ($row.Data) { $thumbprint = Get-D365ThumbprintFromBase64 -Data ([string]$row.Data) }
        [void]$found.Add([ordered]@{ id = [string]$row.Id; name = [string]$row.Name; thumbprint = $thumbprint; storeFindType = [string]$row.StoreFindType })
    }
    return $found.ToArray()
}

function Resolve-D365ToolsPath {
    param([string] $ToolsPath)
    if ($ToolsPath) { return $ToolsPath }
    $key = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\MSCRM' -Name 'CRM_Server_InstallDir' -ErrorAction SilentlyContinue
    if ($null -eq $key -or -not $key.CRM_Server_InstallDir) {
        Stop-D365Step 'toolsPath is not set and HKLM:\SOFTWARE\Microsoft\MSCRM\CRM_Server_InstallDir is missing: is the Dynamics 365 Server installed here?'
    }
    return (Join-Path -Path $key.CRM_Server_InstallDir -ChildPath 'Tools')
}

# What CertificateReconfiguration.ps1 does with its -password parameter, read from the script on this server with
# the PowerShell parser (Microsoft does not publish its source): every command that receives $password, and whether
# it is a native program (then the password is on that program's command line while it runs).
function Get-D365ScriptSecretUse {
    param([Parameter(Mandatory = $true)] [string] $Path, [Parameter(Mandatory = $true)] [string] $ParameterName)
    $tokens = $null
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$tokens, [ref]$errors)
    $uses = New-Object System.Collections.ArrayList
    $variables = $ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.VariableExpressionAst] }, $true)
    foreach ($variable in $variables) {
        if ($variable.VariablePath.UserPath -ne $ParameterName) { continue }
        if ($variable.Parent -is [System.Management.Automation.Language.ParameterAst]) { continue }
        $command = $null
        $node = $variable.Parent
        while ($null -ne $node) {
            if ($node -is [System.Management.Automation.Language.CommandAst]) { $command = $node.GetCommandName(); break }
            $node = $node.Parent
        }
        $native = $false
        if ($command) {
            $resolved = Get-Command -Name $command -ErrorAction SilentlyContinue | Select-Object -First 1
            $native = ($null -ne $resolved -and [string]$resolved.CommandType -eq 'Application') -or ($command -match '\.exe$')
        }
        [void]$uses.Add([ordered]@{ line = $variable.Extent.StartLineNumber; command = $command; native = $native; text = $variable.Parent.Extent.Text.Split("`n")[0].Trim() })
    }
    return $uses.ToArray()
}

function Hide-D365Secret {
    param([string] $Text, [string] $Secret)
    if (-not $Secret -or -not $Text) { return $Text }
    return $Text.Replace($Secret, '***')
}
