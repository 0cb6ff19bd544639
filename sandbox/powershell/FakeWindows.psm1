# A fake Windows server for the D365ExoSync module under pwsh on any OS.
#
# - Fake cmdlets with the parameter shapes Microsoft documents (CRM snap-in, services, CIM, IIS WebAdministration,
#   AD FS): a wrong parameter name in the module fails here as it would on Windows. Their output objects carry the
#   documented properties (Get-AdfsClient: RedirectUri, Name, ClientId, Enabled...; Get-WebBinding: certificateHash,
#   AddSslCertificate()...; Get-CrmCertificate: CertificateType, Data...).
# - Fake Microsoft.Xrm.Sdk.Deployment types (ConfigurationEntity, AttributeCollection).
# - Replacements for the module's Windows-only platform functions (certificate store, CAPI key info, ACL, SIDs, the
#   D365 Tools folder), injected into the D365ExoSync module scope when it is loaded (the same mechanism Pester's Mock uses).
# - One state (a hashtable) behind all of it, and a call log. With FAKE_WINDOWS_STATE_FILE set, the state is loaded
#   from and saved to that JSON file, so separate processes (the TypeScript end-to-end tests) share one fake server.
Set-StrictMode -Version 1.0
$ErrorActionPreference = 'Stop'

$script:XrmTypes = @'
namespace Microsoft.Xrm.Sdk.Deployment {
    using System.Collections.Generic;
    public class AttributeCollection : IEnumerable<KeyValuePair<string, object>> {
        private readonly List<KeyValuePair<string, object>> items = new List<KeyValuePair<string, object>>();
        public void Add(KeyValuePair<string, object> item) { items.Add(item); }
        public void Add(string key, object value) { items.Add(new KeyValuePair<string, object>(key, value)); }
        public int Count { get { return items.Count; } }
        public bool Contains(string key) { foreach (var i in items) { if (i.Key == key) return true; } return false; }
        public object this[string key] { get { foreach (var i in items) { if (i.Key == key) return i.Value; } throw new KeyNotFoundException(key); } }
        public IEnumerator<KeyValuePair<string, object>> GetEnumerator() { return items.GetEnumerator(); }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() { return items.GetEnumerator(); }
    }
    public class ConfigurationEntity {
        public System.Guid Id { get; set; }
        public string LogicalName { get; set; }
        public AttributeCollection Attributes { get; set; }
    }
}
'@
if (-not ('Microsoft.Xrm.Sdk.Deployment.ConfigurationEntity' -as [type])) {
    # Compiling takes seconds; the assembly is cached under sandbox/obj (ignored by git) keyed by its source.
    $hash = [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData([System.Text.Encoding]::UTF8.GetBytes($script:XrmTypes))).Substring(0, 16)
    $cache = Join-Path $PSScriptRoot ('../obj/fake-xrm-' + $hash + '.dll')
    if (-not (Test-Path -LiteralPath $cache)) {
        New-Item -ItemType Directory -Path (Split-Path $cache -Parent) -Force | Out-Null
        $temporary = $cache + '.' + [guid]::NewGuid().ToString('N') + '.tmp'
        Add-Type -TypeDefinition $script:XrmTypes -OutputAssembly $temporary
        try { Move-Item -LiteralPath $temporary -Destination $cache -ErrorAction Stop } catch { Remove-Item -LiteralPath $temporary -ErrorAction SilentlyContinue }
    }
    Add-Type -Path $cache
}

$script:StateFile = $env:FAKE_WINDOWS_STATE_FILE
$script:Fake = $null
$script:GenericAll = [int64]268435456
$script:GenericRead = [int64]2147483648

function New-FakeWindowsState {
    <# The default fake server: a D365 server with the async services, IIS, the CRM snap-in and AD FS. #>
    $orgId = '7d5e2c11-8f3a-4b6e-9c0d-1a2b3c4d5e6f'
    return @{
        identity    = 'CONTOSO\deploy-admin'
        computerName = [System.Environment]::MachineName
        elevated    = $true
        machineKeys = @()
        caStore     = @()
        accounts    = @{
            'CONTOSO\svc-crm-async'        = 'S-1-5-21-1004336348-1177238915-682003330-1101'
            'CONTOSO\svc-crm-web'          = 'S-1-5-21-1004336348-1177238915-682003330-1102'
            'CONTOSO\deploy-admin'         = 'S-1-5-21-1004336348-1177238915-682003330-500'
            'NT AUTHORITY\NETWORK SERVICE' = 'S-1-5-20'
            'NT AUTHORITY\LOCAL SERVICE'   = 'S-1-5-19'
            'NT AUTHORITY\SYSTEM'          = 'S-1-5-18'
            'CONTOSO\gmsa-crm$'            = 'S-1-5-21-1004336348-1177238915-682003330-1201'
            'NT SERVICE\adfssrv'           = 'S-1-5-80-2962817144-200689703-2266453665-3849882635-1986547430'
        }
        store       = @()
        pfxKey      = @{ provider = 'Microsoft Enhanced RSA and AES Cryptographic Provider'; providerType = 24; keyNumber = 'Exchange' }
        services    = @(
            @{ name = 'MSCRMAsyncService'; status = 'Running'; startType = 'Automatic'; startName = 'CONTOSO\svc-crm-async' },
            @{ name = 'MSCRMAsyncService$maintenance'; status = 'Running'; startType = 'Automatic'; startName = 'CONTOSO\svc-crm-async' },
            @{ name = 'adfssrv'; status = 'Running'; startType = 'Automatic'; startName = 'NT SERVICE\adfssrv' }
        )
        appPools    = @{ CRMAppPool = 'Started' }
        webBindings = @(
            @{ site = 'Microsoft Dynamics CRM'; protocol = 'https'; port = 443; hostHeader = ''; certificateHash = ''; certificateStoreName = 'My' }
        )
        crm         = @{
            snapinRegistered = $true
            snapinLoaded     = $false
            administrators   = @('CONTOSO\deploy-admin')
            certificates     = @()
            serverSettings   = @{}
            organizations    = @(@{ id = $orgId; uniqueName = 'contoso'; friendlyName = 'Contoso' })
            orgSettings      = @{}
            oauthClaims      = $false
        }
        adfs        = @{
            intranet              = @('WindowsAuthentication')
            extranet              = @('FormsAuthentication')
            clients               = @()
            permissions           = @()
            serviceCommunications = ''
            ssl                   = @(@{ hostName = 'adfs.contoso.com'; port = 443; hash = '' })
            trusts                = @(@{ name = 'CRM IFD Relying Party'; identifier = @('https://auth.contoso.com:444/'); encryption = ''; metadataEncryption = '' })
        }
        calls       = @()
    }
}

function Save-FakeWindows {
    if ($script:StateFile) {
        [System.IO.File]::WriteAllText($script:StateFile, (ConvertTo-Json -InputObject $script:Fake -Depth 30))
    }
}

function Reset-FakeWindows {
    <# Replaces the fake server's state (default: New-FakeWindowsState) and re-injects the platform fakes. #>
    param([hashtable] $State)
    if (-not $State) { $State = New-FakeWindowsState }
    $script:Fake = $State
    Save-FakeWindows
    Install-FakePlatform
}

function Get-FakeWindows {
    <# The live state hashtable (tests read and edit it). #>
    return $script:Fake
}

function Get-FakeCall {
    <# The call log, optionally for one command name. #>
    param([string] $Name)
    $calls = @($script:Fake.calls)
    if ($Name) { $calls = @($calls | Where-Object { $_.name -eq $Name }) }
    return $calls
}

function Add-FakeCall {
    param([string] $Name, $Arguments)
    $plain = [ordered]@{}
    if ($Arguments) {
        foreach ($key in @($Arguments.Keys)) {
            $value = $Arguments[$key]
            if ($value -is [System.Security.SecureString]) { $value = '<SecureString>' }
            elseif ($value -is [System.Management.Automation.SwitchParameter]) { $value = [bool]$value }
            elseif ($null -ne $value -and -not ($value -is [string]) -and -not ($value -is [ValueType]) -and -not ($value -is [array])) { $value = [string]$value }
            $plain[$key] = $value
        }
    }
    $script:Fake.calls = @($script:Fake.calls) + @(@{ name = $Name; args = $plain })
    Save-FakeWindows
}

function Initialize-FakeWindows {
    if ($script:StateFile -and (Test-Path -LiteralPath $script:StateFile)) {
        $script:Fake = ConvertFrom-Json -InputObject ([System.IO.File]::ReadAllText($script:StateFile)) -AsHashtable -Depth 30
    } else {
        $script:Fake = New-FakeWindowsState
        Save-FakeWindows
    }
    # One record per process that loaded the fake server (tests count the processes this way), with the names (never
    # the values) of the entry script's secret variables in the environment then. The sandbox's entry script loads
    # the fakes before the toolkit's entry script removes them, so here they are named; that the toolkit's script
    # removes them before its module loads is tested with a probe module (test/powershell/EntryScript.Tests.ps1).
    Add-FakeCall 'process-environment' @{ secretVariables = (@(Get-ChildItem -Path env: | Where-Object { $_.Name -like 'D365EXOSYNC_*' } | ForEach-Object { $_.Name }) -join ',') }
}

# ---------------------------------------------------------------------------------------------------------------
# Platform fakes (replace the module's Private/Platform.ps1 functions)

function New-FakeCertificateObject {
    param($Entry)
    return [pscustomobject]@{
        Thumbprint    = [string]$Entry.thumbprint
        Subject       = [string]$Entry.subject
        NotBefore     = [datetime]$Entry.notBefore
        NotAfter      = [datetime]$Entry.notAfter
        HasPrivateKey = [bool]$Entry.hasPrivateKey
        FakePfx       = $Entry.fromPfx
        FakeEntry     = (ConvertTo-Json -InputObject $Entry -Depth 10 -Compress)
    }
}

function Get-FakeKeyFilePath {
    param([string] $UniqueName, [int] $ProviderType)
    if ($ProviderType -eq 0) { return 'C:\ProgramData\Microsoft\Crypto\Keys\' + $UniqueName }
    return 'C:\ProgramData\Microsoft\Crypto\RSA\MachineKeys\' + $UniqueName
}

function Add-FakeStoreCertificate {
    <# Puts a certificate in the fake LocalMachine\My (tests and the fake CertificateReconfiguration.ps1). #>
    param(
        [Parameter(Mandatory = $true)] [string] $Thumbprint,
        [Parameter(Mandatory = $true)] [string] $Subject,
        [datetime] $NotBefore = (Get-Date).AddDays(-30),
        [datetime] $NotAfter = (Get-Date).AddDays(300),
        [bool] $HasPrivateKey = $true,
        [string] $Provider = 'Microsoft Enhanced RSA and AES Cryptographic Provider',
        [int] $ProviderType = 24,
        [string] $KeyNumber = 'Exchange',
        [object[]] $Rules = $null,
        # A key error to simulate when PrivateKey is read: 'access-denied' (the runner may not open the key file).
        [string] $KeyError = $null
    )
    if ($null -eq $Rules) {
        $Rules = @(@{ sid = 'S-1-5-18'; rights = $script:GenericAll; type = 'Allow' }, @{ sid = 'S-1-5-32-544'; rights = $script:GenericAll; type = 'Allow' })
    }
    $entry = @{
        thumbprint = $Thumbprint.ToUpperInvariant(); subject = $Subject
        notBefore = $NotBefore.ToUniversalTime().ToString('o'); notAfter = $NotAfter.ToUniversalTime().ToString('o')
        hasPrivateKey = $HasPrivateKey; provider = $Provider; providerType = $ProviderType; keyNumber = $KeyNumber
        uniqueName = ([guid]::NewGuid().ToString('N')); rules = @($Rules); keyError = $KeyError
    }
    # The key file, in MachineKeys (CAPI) or Keys (CNG): X509Store.Remove leaves it there, as Windows does.
    if ($HasPrivateKey) {
        $entry.keyFile = Get-FakeKeyFilePath -UniqueName $entry.uniqueName -ProviderType $ProviderType
        $script:Fake.machineKeys = @(@($script:Fake.machineKeys) + @($entry.keyFile))
    }
    $script:Fake.store = @(@($script:Fake.store | Where-Object { $_.thumbprint -ne $entry.thumbprint }) + @($entry))
    Save-FakeWindows
}

function Get-FakeStoreEntry {
    param([string] $Thumbprint)
    return @($script:Fake.store | Where-Object { $_.thumbprint -eq $Thumbprint }) | Select-Object -First 1
}

function Get-FakeMachineCertificate {
    param([string] $Thumbprint, [string] $Subject)
    Add-FakeCall 'Get-D365MachineCertificate' $PSBoundParameters
    $found = New-Object System.Collections.ArrayList
    foreach ($entry in @($script:Fake.store)) {
        if ($Thumbprint -and $entry.thumbprint -ne $Thumbprint) { continue }
        if ($Subject -and $entry.subject -ne $Subject) { continue }
        [void]$found.Add((New-FakeCertificateObject $entry))
    }
    return $found.ToArray()
}

function Read-FakePfxCertificate {
    param([string] $Path, [byte[]] $Bytes, [System.Security.SecureString] $Password, [switch] $Persist)
    Add-FakeCall 'Read-D365PfxCertificate' @{ Path = $Path; FromBytes = ($null -ne $Bytes); Persist = [bool]$Persist }
    $plain = [System.Net.NetworkCredential]::new('', $Password).Password
    if ($null -eq $Bytes) { $Bytes = [System.IO.File]::ReadAllBytes($Path) }
    $certificate = [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadPkcs12($Bytes, $plain)
    try {
        return [pscustomobject]@{
            Thumbprint    = $certificate.Thumbprint
            Subject       = $certificate.Subject
            NotBefore     = $certificate.NotBefore
            NotAfter      = $certificate.NotAfter
            HasPrivateKey = $certificate.HasPrivateKey
            FakePfx       = $true
            Persisted     = [bool]$Persist
        }
    } finally {
        $certificate.Dispose()
    }
}

function Add-FakeMachineCertificate {
    param($Certificate)
    Add-FakeCall 'Add-D365MachineCertificate' @{ Thumbprint = $Certificate.Thumbprint; Restore = [bool]$Certificate.FakeEntry }
    if ($Certificate.FakeEntry) {
        # A certificate object read from the store: X509Store.Add puts it back with its key link (replacing in place).
        $entry = ConvertFrom-Json -InputObject $Certificate.FakeEntry -AsHashtable
        $script:Fake.store = @(@($script:Fake.store | Where-Object { $_.thumbprint -ne $entry.thumbprint }) + @($entry))
        Save-FakeWindows
        return
    }
    if (-not $Certificate.Persisted) { throw 'fake: a certificate whose key was not persisted (no PersistKeySet) was added to the store' }
    $key = $script:Fake.pfxKey
    $existing = Get-FakeStoreEntry -Thumbprint $Certificate.Thumbprint
    if ($script:Fake.addKeepsKeyLink -and $null -ne $existing) {
        # The reading of CERT_STORE_ADD_REPLACE_EXISTING_INHERIT_PROPERTIES where the existing certificate's key link
        # wins: the certificate still points at the old key.
        return
    }
    Add-FakeStoreCertificate -Thumbprint $Certificate.Thumbprint -Subject $Certificate.Subject -NotBefore $Certificate.NotBefore -NotAfter $Certificate.NotAfter -HasPrivateKey $Certificate.HasPrivateKey -Provider $key.provider -ProviderType $key.providerType -KeyNumber $key.keyNumber
}

function Remove-FakeMachineCertificate {
    param([string] $Thumbprint)
    Add-FakeCall 'Remove-D365MachineCertificate' $PSBoundParameters
    $script:Fake.store = @($script:Fake.store | Where-Object { $_.thumbprint -ne $Thumbprint })
    Save-FakeWindows
}

function Get-FakePrivateKeyInfo {
    param($Certificate)
    $entry = Get-FakeStoreEntry -Thumbprint $Certificate.Thumbprint
    if ($null -eq $entry) { throw "fake: certificate $($Certificate.Thumbprint) is not in the store" }
    $info = [ordered]@{ hasPrivateKey = [bool]$entry.hasPrivateKey; provider = $null; providerType = 0; keyNumber = 'None'; containerName = $null; uniqueName = $null; keyFile = $null; error = $null; errorKind = $null; accessRules = @() }
    if (-not $entry.hasPrivateKey) { return [pscustomobject]$info }
    # .NET Framework: X509Certificate2.PrivateKey throws NTE_BAD_KEYSET when the key file is gone, access denied
    # when the process may not open it, NTE_BAD_PROV_TYPE for a CNG key (mapped by the module's HRESULT table).
    $failure = $null
    if (-not (@($script:Fake.machineKeys) -contains $entry.keyFile)) { $failure = @(-2146893802, 'Keyset does not exist') }
    elseif ($entry.keyError -eq 'access-denied') { $failure = @(-2147024891, 'Access is denied.') }
    elseif ([int]$entry.providerType -eq 0) { $failure = @(-2146893804, 'Invalid provider type specified.') }
    if ($null -ne $failure) {
        $exception = [System.Security.Cryptography.CryptographicException]::new($failure[1])
        $exception.HResult = $failure[0]
        $info.error = $exception.Message
        $info.errorKind = & (Get-Module D365ExoSync) { param($code) ConvertTo-D365KeyErrorKind -HResult $code } $exception.HResult
        if ($info.errorKind -eq 'cng') { $info.uniqueName = $entry.uniqueName; $info.keyFile = $entry.keyFile }
        return [pscustomobject]$info
    }
    $info.provider = $entry.provider
    $info.providerType = [int]$entry.providerType
    $info.keyNumber = [string]$entry.keyNumber
    $info.containerName = $entry.uniqueName
    $info.uniqueName = $entry.uniqueName
    $info.keyFile = $entry.keyFile
    $info.accessRules = @($entry.rules | ForEach-Object { [pscustomobject]@{ sid = $_.sid; rights = [int64]$_.rights; type = $_.type } })
    return [pscustomobject]$info
}

function Grant-FakePrivateKeyRead {
    param($Certificate, [string] $Sid)
    Add-FakeCall 'Grant-D365PrivateKeyRead' @{ Thumbprint = $Certificate.Thumbprint; Sid = $Sid }
    $entry = Get-FakeStoreEntry -Thumbprint $Certificate.Thumbprint
    if ([int]$entry.providerType -eq 0) { throw 'Invalid provider type specified.' }
    $entry.rules = @(@($entry.rules) + @(@{ sid = $Sid; rights = $script:GenericRead; type = 'Allow' }))
    Save-FakeWindows
}

function ConvertTo-FakeSid {
    param([string] $Account)
    Add-FakeCall 'ConvertTo-D365Sid' @{ Account = $Account }
    if ($Account -match '^S-1-[0-9-]+$') { return $Account }
    # NTAccount.Translate (LookupAccountName): names the security subsystem knows, case-insensitively. It does not
    # know NT AUTHORITY\NetworkService, NT AUTHORITY\LocalService, LocalSystem or '.\user' (Microsoft's
    # "NetworkService Account" page): those throw IdentityNotMappedException, as on Windows.
    foreach ($key in $script:Fake.accounts.Keys) { if ($key -ieq $Account) { return $script:Fake.accounts[$key] } }
    # The real exception type (its constructors refuse to run off Windows, so it is made without one).
    $exception = [System.Runtime.CompilerServices.RuntimeHelpers]::GetUninitializedObject([System.Security.Principal.IdentityNotMappedException])
    [System.Exception].GetField('_message', [System.Reflection.BindingFlags]'NonPublic, Instance').SetValue($exception, 'Some or all identity references could not be translated.')
    throw $exception
}

function Remove-FakeKeyFile {
    param([string] $Path)
    Add-FakeCall 'Remove-D365KeyFile' $PSBoundParameters
    $script:Fake.machineKeys = @($script:Fake.machineKeys | Where-Object { $_ -ne $Path })
    Save-FakeWindows
}

function Add-FakePfxIntermediateCertificates {
    param([byte[]] $Bytes, [System.Security.SecureString] $Password, [string] $LeafThumbprint, [bool] $Plan)
    $plain = [System.Net.NetworkCredential]::new('', $Password).Password
    $collection = [System.Security.Cryptography.X509Certificates.X509CertificateLoader]::LoadPkcs12Collection($Bytes, $plain)
    $report = New-Object System.Collections.ArrayList
    foreach ($certificate in $collection) {
        if ($certificate.Thumbprint -eq $LeafThumbprint -or $certificate.Subject -eq $certificate.Issuer) { continue }
        $present = @($script:Fake.caStore | Where-Object { $_.thumbprint -eq $certificate.Thumbprint }).Count -gt 0
        if (-not $present -and -not $Plan) { $script:Fake.caStore = @(@($script:Fake.caStore) + @(@{ thumbprint = $certificate.Thumbprint; subject = $certificate.Subject })) }
        [void]$report.Add([ordered]@{ thumbprint = $certificate.Thumbprint; subject = $certificate.Subject; added = (-not $present) })
    }
    foreach ($certificate in $collection) { $certificate.Dispose() }
    $added = 0
    if (-not $Plan) { $added = @($report | Where-Object { $_.added }).Count }
    Add-FakeCall 'Add-D365PfxIntermediateCertificates' @{ LeafThumbprint = $LeafThumbprint; Plan = $Plan; Added = $added }
    return $report.ToArray()
}

function Get-FakeServerName { return [string]$script:Fake.computerName }
function Test-FakeElevated { return [bool]$script:Fake.elevated }

function Get-FakeCurrentIdentityName { return [string]$script:Fake.identity }
function Reset-FakeCertificate { param($Certificate) }

# The fake server has Dynamics 365 Server in its default folder: that Tools folder, as a config names it
# (deployment.toolsPath) or as the registry would give it when none is given, is the fake tools folder next to this
# module. Any other path is taken as it is.
$script:FakeCrmToolsPath = 'C:\Program Files\Microsoft Dynamics CRM\Tools'

function Resolve-FakeToolsPath {
    param([string] $ToolsPath)
    Add-FakeCall 'Resolve-D365ToolsPath' $PSBoundParameters
    if (-not $ToolsPath -or $ToolsPath -eq $script:FakeCrmToolsPath) { return (Join-Path -Path $PSScriptRoot -ChildPath 'tools') }
    return $ToolsPath
}

$script:PlatformOverrides = @{
    'Get-D365MachineCertificate'    = ${function:Get-FakeMachineCertificate}
    'Add-D365MachineCertificate'    = ${function:Add-FakeMachineCertificate}
    'Remove-D365MachineCertificate' = ${function:Remove-FakeMachineCertificate}
    'Read-D365PfxCertificate'       = ${function:Read-FakePfxCertificate}
    'Reset-D365Certificate'         = ${function:Reset-FakeCertificate}
    'Get-D365PrivateKeyInfo'        = ${function:Get-FakePrivateKeyInfo}
    'Grant-D365PrivateKeyRead'      = ${function:Grant-FakePrivateKeyRead}
    'ConvertTo-D365Sid'             = ${function:ConvertTo-FakeSid}
    'Remove-D365KeyFile'            = ${function:Remove-FakeKeyFile}
    'Add-D365PfxIntermediateCertificates' = ${function:Add-FakePfxIntermediateCertificates}
    'Get-D365ServerName'            = ${function:Get-FakeServerName}
    'Test-D365Elevated'             = ${function:Test-FakeElevated}
    'Get-D365CurrentIdentityName'   = ${function:Get-FakeCurrentIdentityName}
    'Resolve-D365ToolsPath'         = ${function:Resolve-FakeToolsPath}
}

function Install-FakePlatform {
    $module = Get-Module -Name 'D365ExoSync'
    if ($null -eq $module) { return }
    & $module { param($overrides) foreach ($name in $overrides.Keys) { Set-Item -Path ('function:script:' + $name) -Value $overrides[$name] } } $script:PlatformOverrides
}

# ---------------------------------------------------------------------------------------------------------------
# Services and CIM

function Get-Service {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string[]] $Name)
    Add-FakeCall 'Get-Service' $PSBoundParameters
    $found = @($script:Fake.services | Where-Object { -not $Name -or $Name -contains $_.name })
    if ($Name -and $found.Count -eq 0) {
        Write-Error -Message ("Cannot find any service with service name '{0}'." -f ($Name -join ', ')) -Category ObjectNotFound
        return
    }
    foreach ($service in $found) {
        $startType = 'Automatic'
        if ($service.startType) { $startType = $service.startType }
        [pscustomobject]@{ Name = $service.name; ServiceName = $service.name; Status = $service.status; StartType = $startType; DisplayName = $service.name }
    }
}

function Start-Service {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true, Position = 0)] [string[]] $Name)
    Add-FakeCall 'Start-Service' $PSBoundParameters
    foreach ($item in $Name) {
        $service = @($script:Fake.services | Where-Object { $_.name -eq $item })[0]
        if ($null -eq $service) { throw "Cannot find any service with service name '$item'." }
        if ($service.failStart) {
            Write-Error -Message ("Service '{0} ({0})' cannot be started due to the following error: Cannot start service {0} on computer '.'." -f $item) -Category OpenError
            continue
        }
        $service.status = 'Running'
    }
    Save-FakeWindows
}

function Restart-Service {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true, Position = 0)] [string[]] $Name, [switch] $Force)
    Add-FakeCall 'Restart-Service' $PSBoundParameters
    foreach ($item in $Name) {
        $service = @($script:Fake.services | Where-Object { $_.name -eq $item })[0]
        if ($null -eq $service) { throw "Cannot find any service with service name '$item'." }
        if ($service.failRestart) { $service.status = 'Stopped' } else { $service.status = 'Running' }
    }
    Save-FakeWindows
}

function Get-CimInstance {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [string] $ClassName, [string] $Filter)
    Add-FakeCall 'Get-CimInstance' $PSBoundParameters
    if ($ClassName -ne 'Win32_Service') { throw "fake: class $ClassName is not faked" }
    $wanted = $null
    if ($Filter -match "^Name='(.+)'$") { $wanted = $Matches[1] }
    foreach ($service in @($script:Fake.services)) {
        if ($wanted -and $service.name -ne $wanted) { continue }
        [pscustomobject]@{ Name = $service.name; StartName = $service.startName; State = $service.status }
    }
}

# ---------------------------------------------------------------------------------------------------------------
# IIS (WebAdministration)

function Get-WebAppPoolState {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string[]] $Name)
    Add-FakeCall 'Get-WebAppPoolState' $PSBoundParameters
    foreach ($item in $Name) {
        if (-not $script:Fake.appPools.ContainsKey($item)) { Write-Error -Message "Cannot find path 'IIS:\AppPools\$item' because it does not exist." -Category ObjectNotFound; continue }
        [pscustomobject]@{ Value = $script:Fake.appPools[$item] }
    }
}

function Restart-WebAppPool {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Position = 0)] [string[]] $Name)
    Add-FakeCall 'Restart-WebAppPool' $PSBoundParameters
}

function Get-WebBinding {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string] $Name, [string] $Protocol, [int] $Port, [string] $IPAddress, [string] $HostHeader)
    Add-FakeCall 'Get-WebBinding' $PSBoundParameters
    foreach ($binding in @($script:Fake.webBindings)) {
        if ($Name -and $binding.site -ne $Name) { continue }
        if ($Protocol -and $binding.protocol -ne $Protocol) { continue }
        if ($PSBoundParameters.ContainsKey('Port') -and [int]$binding.port -ne $Port) { continue }
        if ($PSBoundParameters.ContainsKey('HostHeader') -and $binding.hostHeader -ne $HostHeader) { continue }
        $object = [pscustomobject]@{
            protocol             = $binding.protocol
            bindingInformation   = ('*:{0}:{1}' -f $binding.port, $binding.hostHeader)
            sslFlags             = 0
            certificateHash      = $binding.certificateHash
            certificateStoreName = $binding.certificateStoreName
            ItemXPath            = "/system.applicationHost/sites/site[@name='$($binding.site)']"
        }
        $object | Add-Member -MemberType NoteProperty -Name FakeBinding -Value $binding
        $object | Add-Member -MemberType ScriptMethod -Name AddSslCertificate -Value {
            param([string] $thumbprint, [string] $storeName)
            if ($this.FakeBinding.certificateHash) { throw 'Cannot create a file when that file already exists. (Exception from HRESULT: 0x800700B7)' }
            $this.FakeBinding.certificateHash = $thumbprint
            $this.FakeBinding.certificateStoreName = $storeName
            Add-FakeCall 'WebBinding.AddSslCertificate' @{ thumbprint = $thumbprint; storeName = $storeName }
        }
        $object | Add-Member -MemberType ScriptMethod -Name RemoveSslCertificate -Value {
            $this.FakeBinding.certificateHash = ''
            Add-FakeCall 'WebBinding.RemoveSslCertificate' @{}
        }
        $object
    }
}

# ---------------------------------------------------------------------------------------------------------------
# Microsoft.Crm.PowerShell snap-in

function Get-PSSnapin {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string[]] $Name, [switch] $Registered)
    Add-FakeCall 'Get-PSSnapin' $PSBoundParameters
    $crm = $script:Fake.crm
    $present = ($Registered -and $crm.snapinRegistered) -or (-not $Registered -and $crm.snapinLoaded)
    if (-not $present) {
        if ($Name) { Write-Error -Message "No Windows PowerShell snap-ins matching the pattern '$($Name -join ',')' were found." -Category InvalidArgument }
        return
    }
    [pscustomobject]@{ Name = 'Microsoft.Crm.PowerShell'; PSVersion = '5.1'; Description = 'Dynamics 365 PowerShell snap-in (fake)' }
}

function Add-PSSnapin {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [string[]] $Name)
    Add-FakeCall 'Add-PSSnapin' $PSBoundParameters
    if (-not $script:Fake.crm.snapinRegistered) { throw "The Windows PowerShell snap-in '$($Name -join ',')' is not installed on this computer." }
    $script:Fake.crm.snapinLoaded = $true
    Save-FakeWindows
}

function Assert-FakeDeploymentAdministrator {
    if (-not ($script:Fake.crm.administrators -contains $script:Fake.identity)) {
        throw 'The caller is not a Deployment Administrator. (fake)'
    }
}

function Get-CrmDeploymentAdministrator {
    [CmdletBinding()]
    param([pscredential] $Credential, [switch] $Diag, [string] $DwsServerUrl, [int] $Timeout)
    Add-FakeCall 'Get-CrmDeploymentAdministrator' $PSBoundParameters
    if ($script:Fake.crm.denyAdministratorList) { throw 'Access is denied. (fake)' }
    foreach ($name in @($script:Fake.crm.administrators)) { [pscustomobject]@{ Id = [guid]::NewGuid(); Name = $name; ExtensionData = $null } }
}

function Get-CrmCertificate {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [guid] $Id, [pscredential] $Credential, [switch] $Diag, [string] $DwsServerUrl, [int] $Timeout)
    Add-FakeCall 'Get-CrmCertificate' $PSBoundParameters
    Assert-FakeDeploymentAdministrator
    foreach ($row in @($script:Fake.crm.certificates)) {
        [pscustomobject]@{ CertificateType = $row.type; Data = $row.data; Id = [guid]$row.id; Name = $row.name; StoreFindType = 'FindBySubjectDistinguishedName'; StoreLocation = 'LocalMachine'; StoreName = 'My'; ExtensionData = $null }
    }
}

function Get-CrmAdvancedSetting {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $ConfigurationEntityName, [Parameter(Mandatory = $true)] [string] $Setting, [guid] $Id, [pscredential] $Credential, [string] $DwsServerUrl)
    Add-FakeCall 'Get-CrmAdvancedSetting' $PSBoundParameters
    Assert-FakeDeploymentAdministrator
    $value = $null
    if ($ConfigurationEntityName -eq 'ServerSettings') {
        $value = $script:Fake.crm.serverSettings[$Setting]
    } elseif ($ConfigurationEntityName -eq 'Organization') {
        $key = ([string]$Id).ToLowerInvariant()
        if ($script:Fake.crm.orgSettings.ContainsKey($key)) { $value = $script:Fake.crm.orgSettings[$key][$Setting] }
    } else {
        throw "fake: configuration entity $ConfigurationEntityName is not faked"
    }
    $entity = New-Object Microsoft.Xrm.Sdk.Deployment.ConfigurationEntity
    $entity.LogicalName = $ConfigurationEntityName
    if ($Id) { $entity.Id = $Id }
    $entity.Attributes = New-Object Microsoft.Xrm.Sdk.Deployment.AttributeCollection
    $entity.Attributes.Add($Setting, $value)
    return $entity
}

function Set-CrmAdvancedSetting {
    [CmdletBinding(DefaultParameterSetName = 'Entity')]
    param(
        [Parameter(Mandatory = $true, ParameterSetName = 'Entity')] [Microsoft.Xrm.Sdk.Deployment.ConfigurationEntity] $Entity,
        [Parameter(ParameterSetName = 'Setting')] [guid] $ID,
        [Parameter(Mandatory = $true, ParameterSetName = 'Setting')] [string] $configurationEntityName,
        [Parameter(Mandatory = $true, ParameterSetName = 'Setting')] [string] $setting,
        [Parameter(Mandatory = $true, ParameterSetName = 'Setting')] [object] $value,
        [pscredential] $Credential, [string] $DwsServerUrl
    )
    $log = @{}
    if ($PSCmdlet.ParameterSetName -eq 'Entity') {
        $log['Entity.LogicalName'] = $Entity.LogicalName
        foreach ($pair in $Entity.Attributes) { $log[$pair.Key] = [string]$pair.Value }
    } else {
        $log['ID'] = [string]$ID; $log['configurationEntityName'] = $configurationEntityName; $log['setting'] = $setting; $log['value'] = [string]$value
    }
    Add-FakeCall 'Set-CrmAdvancedSetting' $log
    Assert-FakeDeploymentAdministrator
    if ($PSCmdlet.ParameterSetName -eq 'Entity') {
        if ($Entity.LogicalName -ne 'ServerSettings') { throw "fake: entity $($Entity.LogicalName) is not faked" }
        foreach ($pair in $Entity.Attributes) { $script:Fake.crm.serverSettings[$pair.Key] = [string]$pair.Value }
    } else {
        if ($configurationEntityName -ne 'Organization') { throw "fake: $configurationEntityName is not faked" }
        $key = ([string]$ID).ToLowerInvariant()
        if (-not $script:Fake.crm.orgSettings.ContainsKey($key)) { $script:Fake.crm.orgSettings[$key] = @{} }
        $script:Fake.crm.orgSettings[$key][$setting] = [string]$value
    }
    Save-FakeWindows
}

function Get-CrmOrganization {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string] $Name, [pscredential] $Credential, [string] $DwsServerUrl)
    Add-FakeCall 'Get-CrmOrganization' $PSBoundParameters
    Assert-FakeDeploymentAdministrator
    foreach ($org in @($script:Fake.crm.organizations)) {
        if ($Name -and $org.uniqueName -ne $Name) { continue }
        [pscustomobject]@{ Id = [guid]$org.id; UniqueName = $org.uniqueName; FriendlyName = $org.friendlyName; State = 'Enabled'; Version = '9.1.0.0' }
    }
}

function Get-CrmSetting {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true)] [string] $SettingType, [pscredential] $Credential, [string] $DwsServerUrl)
    Add-FakeCall 'Get-CrmSetting' $PSBoundParameters
    Assert-FakeDeploymentAdministrator
    if ($SettingType -ne 'OAuthClaimsSettings') { throw "fake: setting type $SettingType is not faked" }
    [pscustomobject]@{ Enabled = [bool]$script:Fake.crm.oauthClaims; FakeSettingType = $SettingType }
}

function Set-CrmSetting {
    [CmdletBinding()]
    param([Parameter(Mandatory = $true, Position = 0)] [object] $Setting, [pscredential] $Credential, [string] $DwsServerUrl)
    Add-FakeCall 'Set-CrmSetting' @{ SettingType = $Setting.FakeSettingType; Enabled = [bool]$Setting.Enabled }
    Assert-FakeDeploymentAdministrator
    $script:Fake.crm.oauthClaims = [bool]$Setting.Enabled
    Save-FakeWindows
}

function Set-FakeCrmS2SCertificate {
    <# Used by tests and by the fake CertificateReconfiguration.ps1: the S2STokenIssuer row with a certificate's DER. #>
    param([Parameter(Mandatory = $true)] [byte[]] $RawData)
    $rows = @($script:Fake.crm.certificates | Where-Object { $_.type -ne 'S2STokenIssuer' })
    $script:Fake.crm.certificates = $rows + @(@{ id = [guid]::NewGuid().ToString(); name = 'S2STokenIssuer'; type = 'S2STokenIssuer'; data = [Convert]::ToBase64String($RawData) })
    Save-FakeWindows
}

# ---------------------------------------------------------------------------------------------------------------
# AD FS

function New-FakeAdfsClientObject {
    param($Client)
    [pscustomobject]@{ RedirectUri = @($Client.redirectUri); Name = $Client.name; Description = $Client.description; ClientId = $Client.clientId; BuiltIn = $false; Enabled = [bool]$Client.enabled; ClientType = $Client.clientType }
}

function Get-AdfsClient {
    [CmdletBinding(DefaultParameterSetName = 'Name')]
    param([Parameter(ParameterSetName = 'Name', Position = 0)] [string[]] $Name, [Parameter(ParameterSetName = 'ClientId')] [string[]] $ClientId)
    Add-FakeCall 'Get-AdfsClient' $PSBoundParameters
    # What -ClientId does for an unknown id is not documented: the fake takes the unfriendly reading and throws.
    foreach ($id in @($ClientId)) {
        if ($id -and @($script:Fake.adfs.clients | Where-Object { $_.clientId -eq $id }).Count -eq 0) { throw "MSIS7615: The client with identifier '$id' was not found. (fake)" }
    }
    foreach ($client in @($script:Fake.adfs.clients)) {
        if ($ClientId -and -not ($ClientId -contains $client.clientId)) { continue }
        if ($Name -and -not ($Name -contains $client.name)) { continue }
        New-FakeAdfsClientObject $client
    }
}

function Add-AdfsClient {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true, Position = 0)] [string] $ClientId,
        [Parameter(Mandatory = $true, Position = 1)] [string] $Name,
        [Parameter(Position = 2)] [string[]] $RedirectUri,
        [string] $Description,
        [ValidateSet('Public', 'Confidential')] [string] $ClientType = 'Public',
        [string] $ADUserPrincipalName, [switch] $GenerateClientSecret, [string] $LogoutUri, [switch] $PassThru
    )
    Add-FakeCall 'Add-AdfsClient' $PSBoundParameters
    if (@($script:Fake.adfs.clients | Where-Object { $_.clientId -eq $ClientId }).Count -gt 0) { throw "MSIS7613: The client identifier '$ClientId' is already in use. (fake)" }
    $script:Fake.adfs.clients = @(@($script:Fake.adfs.clients) + @(@{ clientId = $ClientId; name = $Name; redirectUri = @($RedirectUri); description = $Description; enabled = $true; clientType = $ClientType }))
    Save-FakeWindows
}

function Set-AdfsClient {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true, ParameterSetName = 'Identifier')] [string] $TargetClientId,
        [Parameter(Mandatory = $true, ParameterSetName = 'Name')] [string] $TargetName,
        [string] $ClientId, [string] $Name, [string[]] $RedirectUri, [string] $Description, [switch] $Force, [switch] $PassThru
    )
    Add-FakeCall 'Set-AdfsClient' $PSBoundParameters
    $client = @($script:Fake.adfs.clients | Where-Object { $_.clientId -eq $TargetClientId -or $_.name -eq $TargetName })[0]
    if ($null -eq $client) { throw 'MSIS7615: client not found (fake)' }
    if ($PSBoundParameters.ContainsKey('Name')) { $client.name = $Name }
    if ($PSBoundParameters.ContainsKey('RedirectUri')) { $client.redirectUri = @($RedirectUri) }
    if ($PSBoundParameters.ContainsKey('Description')) { $client.description = $Description }
    Save-FakeWindows
}

function Enable-AdfsClient {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true, ParameterSetName = 'Identifier')] [string] $TargetClientId, [Parameter(Mandatory = $true, ParameterSetName = 'Name')] [string] $TargetName, [switch] $PassThru)
    Add-FakeCall 'Enable-AdfsClient' $PSBoundParameters
    $client = @($script:Fake.adfs.clients | Where-Object { $_.clientId -eq $TargetClientId -or $_.name -eq $TargetName })[0]
    $client.enabled = $true
    Save-FakeWindows
}

function Get-AdfsGlobalAuthenticationPolicy {
    [CmdletBinding()]
    param()
    Add-FakeCall 'Get-AdfsGlobalAuthenticationPolicy' $PSBoundParameters
    [pscustomobject]@{
        PrimaryIntranetAuthenticationProvider = @($script:Fake.adfs.intranet)
        PrimaryExtranetAuthenticationProvider = @($script:Fake.adfs.extranet)
        AdditionalAuthenticationProvider      = @()
        DeviceAuthenticationEnabled           = $false
    }
}

function Set-AdfsGlobalAuthenticationPolicy {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([string[]] $PrimaryIntranetAuthenticationProvider, [string[]] $PrimaryExtranetAuthenticationProvider, [string[]] $AdditionalAuthenticationProvider, [switch] $Force)
    Add-FakeCall 'Set-AdfsGlobalAuthenticationPolicy' $PSBoundParameters
    # The cmdlet replaces each list with what it is given.
    if ($PSBoundParameters.ContainsKey('PrimaryIntranetAuthenticationProvider')) { $script:Fake.adfs.intranet = @($PrimaryIntranetAuthenticationProvider) }
    if ($PSBoundParameters.ContainsKey('PrimaryExtranetAuthenticationProvider')) { $script:Fake.adfs.extranet = @($PrimaryExtranetAuthenticationProvider) }
    Save-FakeWindows
}

function Get-AdfsApplicationPermission {
    [CmdletBinding(DefaultParameterSetName = 'Identifier')]
    param(
        [Parameter(ParameterSetName = 'Identifier', Position = 0)] [string[]] $Identifiers,
        [Parameter(ParameterSetName = 'ClientRoleIdentifier', Position = 0)] [string[]] $ClientRoleIdentifiers,
        [Parameter(ParameterSetName = 'ServerRoleIdentifier', Position = 0)] [string[]] $ServerRoleIdentifiers
    )
    Add-FakeCall 'Get-AdfsApplicationPermission' $PSBoundParameters
    foreach ($permission in @($script:Fake.adfs.permissions)) {
        if ($ClientRoleIdentifiers -and -not ($ClientRoleIdentifiers -contains $permission.client)) { continue }
        if ($ServerRoleIdentifiers -and -not ($ServerRoleIdentifiers -contains $permission.server)) { continue }
        [pscustomobject]@{ ClientRoleIdentifier = $permission.client; ServerRoleIdentifier = $permission.server; ScopeNames = @('openid'); Description = $null; ObjectIdentifier = $permission.id }
    }
}

function Grant-AdfsApplicationPermission {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'ClientRoleIdentifier')] [string] $ClientRoleIdentifier,
        [Parameter(Mandatory = $true, ParameterSetName = 'AllowAll')] [switch] $AllowAllRegisteredClients,
        [Parameter(Mandatory = $true, Position = 1)] [string] $ServerRoleIdentifier,
        [Parameter(Position = 2)] [string[]] $ScopeNames,
        [string] $Description, [switch] $PassThru
    )
    Add-FakeCall 'Grant-AdfsApplicationPermission' $PSBoundParameters
    $script:Fake.adfs.permissions = @(@($script:Fake.adfs.permissions) + @(@{ id = [guid]::NewGuid().ToString(); client = $ClientRoleIdentifier; server = $ServerRoleIdentifier }))
    Save-FakeWindows
}

function Get-AdfsCertificate {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [ValidateSet('Service-Communications', 'Token-Decrypting', 'Token-Signing')] [string[]] $CertificateType)
    Add-FakeCall 'Get-AdfsCertificate' $PSBoundParameters
    if ($script:Fake.adfs.serviceCommunications) {
        [pscustomobject]@{ CertificateType = 'Service-Communications'; Thumbprint = $script:Fake.adfs.serviceCommunications; IsPrimary = $true; StoreName = 'My'; StoreLocation = 'LocalMachine' }
    }
}

function Set-AdfsCertificate {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)] [ValidateSet('Service-Communications', 'Token-Decrypting', 'Token-Signing')] [string] $CertificateType, [Parameter(Mandatory = $true)] [string] $Thumbprint, [switch] $IsPrimary)
    Add-FakeCall 'Set-AdfsCertificate' $PSBoundParameters
    $script:Fake.adfs.serviceCommunications = $Thumbprint
    Save-FakeWindows
}

function Get-AdfsSslCertificate {
    [CmdletBinding()]
    param()
    Add-FakeCall 'Get-AdfsSslCertificate' $PSBoundParameters
    foreach ($binding in @($script:Fake.adfs.ssl)) { [pscustomobject]@{ HostName = $binding.hostName; PortNumber = $binding.port; CertificateHash = $binding.hash } }
}

function Set-AdfsSslCertificate {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true)] [string] $Thumbprint, [string[]] $Member, [bool] $Force, [pscredential] $RemoteCredential)
    Add-FakeCall 'Set-AdfsSslCertificate' $PSBoundParameters
    foreach ($binding in @($script:Fake.adfs.ssl)) { $binding.hash = $Thumbprint }
    Save-FakeWindows
}

function Get-AdfsRelyingPartyTrust {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string[]] $Name, [string[]] $Identifier)
    Add-FakeCall 'Get-AdfsRelyingPartyTrust' $PSBoundParameters
    foreach ($trust in @($script:Fake.adfs.trusts)) {
        if ($Name -and -not ($Name -contains $trust.name)) { continue }
        $encryption = $null
        if ($trust.encryption) { $encryption = [pscustomobject]@{ Thumbprint = $trust.encryption } }
        [pscustomobject]@{ Name = $trust.name; Identifier = @($trust.identifier); EncryptionCertificate = $encryption; Enabled = $true }
    }
}

function Update-AdfsRelyingPartyTrust {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory = $true, ParameterSetName = 'Name')] [string] $TargetName, [Parameter(Mandatory = $true, ParameterSetName = 'Identifier')] [string] $TargetIdentifier, [string] $MetadataFile)
    Add-FakeCall 'Update-AdfsRelyingPartyTrust' $PSBoundParameters
    foreach ($trust in @($script:Fake.adfs.trusts)) {
        if ($trust.name -eq $TargetName -and $trust.metadataEncryption) { $trust.encryption = $trust.metadataEncryption }
    }
    Save-FakeWindows
}

Initialize-FakeWindows
Install-FakePlatform

Export-ModuleMember -Function @(
    'New-FakeWindowsState', 'Reset-FakeWindows', 'Get-FakeWindows', 'Get-FakeCall', 'Add-FakeStoreCertificate', 'Set-FakeCrmS2SCertificate',
    'Install-FakePlatform', 'Add-FakeCall',
    'Get-Service', 'Restart-Service', 'Start-Service', 'Get-CimInstance',
    'Get-WebAppPoolState', 'Restart-WebAppPool', 'Get-WebBinding',
    'Get-PSSnapin', 'Add-PSSnapin', 'Get-CrmDeploymentAdministrator', 'Get-CrmCertificate', 'Get-CrmAdvancedSetting', 'Set-CrmAdvancedSetting',
    'Get-CrmOrganization', 'Get-CrmSetting', 'Set-CrmSetting',
    'Get-AdfsClient', 'Add-AdfsClient', 'Set-AdfsClient', 'Enable-AdfsClient', 'Get-AdfsGlobalAuthenticationPolicy', 'Set-AdfsGlobalAuthenticationPolicy',
    'Get-AdfsApplicationPermission', 'Grant-AdfsApplicationPermission', 'Get-AdfsCertificate', 'Set-AdfsCertificate', 'Get-AdfsSslCertificate',
    'Set-AdfsSslCertificate', 'Get-AdfsRelyingPartyTrust', 'Update-AdfsRelyingPartyTrust'
)
