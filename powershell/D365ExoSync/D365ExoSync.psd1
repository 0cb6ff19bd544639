@{
    RootModule        = 'D365ExoSync.psm1'
    ModuleVersion     = '0.1.0'
    GUID              = '5b0c7c0e-2f7e-4d0e-9a43-7a1f0f3c9d21'
    Author            = 'd365-exo-sync'
    Description       = 'Windows phases of d365-exo-sync: install the S2S certificate, configure Dynamics 365 (on-premises), AD FS and the Exchange Online EWS access for server-side synchronization with Exchange Online. Windows PowerShell 5.1 compatible.'
    PowerShellVersion = '5.1'
    FunctionsToExport = @(
        'Install-D365ExoSyncCertificate',
        'Set-D365ExoSyncCrmConfiguration',
        'Set-D365ExoSyncAdfsConfiguration',
        'Set-D365ExoSyncExchangeConfiguration',
        'Invoke-D365ExoSyncWebApi',
        'Get-D365ExoSyncLastState'
    )
    CmdletsToExport   = @()
    VariablesToExport = @()
    AliasesToExport   = @()
}
